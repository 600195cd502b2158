/** The result the controller writes for a delivery that ended without the agent's word. */
import type { Job, JobState, Result } from '../../protocol/job.js';
import type { NodeKey } from './job-store.js';

/** A job that went nowhere carries gid/nid 0 (or the ones it asked for) in its result. */
export function verdict(job: Job, node: NodeKey | null, state: JobState, reason: string, now: number): Result {
  return {
    id: job.id,
    gid: node?.gid ?? job.gid ?? 0,
    nid: node?.nid ?? job.nid ?? 0,
    cmd: job.cmd,
    args: job.args,
    data: reason,
    level: 0,
    state,
    starttime: now,
    time: 0,
    streams: ['', ''],
    critical: '',
    tags: job.tags,
  };
}
