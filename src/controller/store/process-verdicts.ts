/**
 * Why a named process finished without its agent's word (REFERENCE 3), the same whichever store
 * keeps it; its exit code says which (EXIT_NOT_STARTED, EXIT_LOST).
 */
import type { JobState, Result } from '../../protocol/job.js';
import { nodeName, type NodeKey } from './job-store.js';

/** Its start job ended other than SUCCESS; `result` is that job's first result, if any. */
export function notStartedReason(state: JobState, result: Result | undefined): string {
  const why = result?.data || result?.critical || '';
  return `not started: its start ended ${state}${why ? ` (${why})` : ''}`;
}

export function nodeLostReason(node: NodeKey): string {
  return `agent ${nodeName(node)} lost: not seen within the TTL; exit status unknown`;
}

/** Its node was lost before the agent took the start: it certainly never ran. */
export function nodeLostBeforeStartReason(node: NodeKey): string {
  return `not started: agent ${nodeName(node)} was lost (not seen within the TTL) before it took the start`;
}

export function unknownToAgentReason(node: NodeKey): string {
  return `agent ${nodeName(node)} does not know it (it restarted, or never heard that its start was taken); exit status unknown`;
}
