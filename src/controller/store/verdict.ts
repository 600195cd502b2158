/**
 * The result the controller writes for a delivery that ended without the agent's word, and the
 * words it gives, the same whichever store keeps them.
 */
import type { Job, JobState, Result } from '../../protocol/job.js';
import type { NewJob, NodeKey } from './job-store.js';

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

/** Why a new job fails at once: it has no target. Null when it has one. */
export function failureOf(entry: NewJob): string | null {
  return entry.targets.length === 0 ? (entry.failure ?? 'no target') : null;
}

/** `why` the queued and offered deliveries of a job end KILLED: a client killed it, or its node was lost. */
export const KILLED = 'killed';
export const WITHDRAWN_WITH_NODE = 'withdrawn with its lost agent';

export function untakenReason(why: string, state: 'QUEUED' | 'OFFERED'): string {
  return state === 'QUEUED' ? `${why} before it was delivered` : `${why} while offered to the agent`;
}
