/** How a job ended, and the Result (REFERENCE 2.2) the controller gets for it. */
import type { Job, JobState, Result } from '../../protocol/job.js';
import type { ProcessOutcome } from './job-process.js';

/** A run's outcome, or the verdict on a job that never ran. */
export type Outcome = Omit<ProcessOutcome, 'state'> & { state: JobState };

/** An ending without a process (killed while queued, bad arguments, built-ins): `why` is `critical`. */
export function verdict(state: JobState, why = '', startedAt = Date.now(), data = '', level = 0): Outcome {
  return { state, data, level, critical: why, streams: ['', ''], startedAt, endedAt: Date.now() };
}

export function toResult(job: Job, node: { gid: number; nid: number }, o: Outcome): Result {
  return {
    id: job.id,
    gid: node.gid,
    nid: node.nid,
    cmd: job.cmd,
    args: job.args,
    data: o.data,
    level: o.level,
    state: o.state,
    starttime: o.startedAt,
    time: o.endedAt - o.startedAt,
    streams: o.streams,
    critical: o.critical,
    tags: job.tags,
  };
}
