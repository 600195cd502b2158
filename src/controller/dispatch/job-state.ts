/** One state for a job from the states of its deliveries (one per node; several with fanout). */
import type { JobState } from '../../protocol/job.js';

/** OFFERED is internal: until the agent acknowledges, the job is not RUNNING anywhere. */
export type DeliveryState = JobState | 'OFFERED';

/** For a job whose nodes ended differently, the state that tells the user most. */
const WORST_FIRST: readonly JobState[] = ['ERROR', 'TIMEOUT', 'UNKNOWN_CMD', 'DUPLICATE_ID', 'KILLED', 'SUCCESS'];

/**
 * QUEUED while no delivery has started; RUNNING while some have and others have not ended;
 * once all ended, SUCCESS only if every node succeeded, else the worst state among them.
 */
export function aggregateState(counts: ReadonlyMap<DeliveryState, number>): JobState {
  const n = (s: DeliveryState) => counts.get(s) ?? 0;
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const waiting = n('QUEUED') + n('OFFERED');
  if (total === 0) return 'ERROR';
  if (waiting === total) return 'QUEUED';
  if (waiting > 0 || n('RUNNING') > 0) return 'RUNNING';
  return WORST_FIRST.find((s) => n(s) > 0) ?? 'ERROR';
}
