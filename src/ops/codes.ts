/**
 * The numeric codes of the OCS agent model (REFERENCE 1.5). The values travel over the wire to
 * unmodified OCS clients, so they are fixed by OCS (`ocs.base.OpCode`, `ocs.base.ResponseCode`)
 * and must never be renumbered.
 */

/** A session's combined state, as published in `session.op_code`. */
export const OpCode = {
  NONE: 1,
  STARTING: 2,
  RUNNING: 3,
  STOPPING: 4,
  SUCCEEDED: 5,
  FAILED: 6,
  /** Used by OCS's registry for agents that stopped reporting; never produced by a live session. */
  EXPIRED: 7,
  /** Running, but the op has flagged that it is not achieving its purpose. */
  DEGRADED: 8,
} as const;
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** The first element of every action reply. */
export const ResponseCode = {
  OK: 0,
  ERROR: -1,
  TIMEOUT: 1,
} as const;
export type ResponseCode = (typeof ResponseCode)[keyof typeof ResponseCode];

/** `0 → 'OK'`, for logs and human-readable output. */
export function responseCodeName(code: ResponseCode): keyof typeof ResponseCode {
  return code === ResponseCode.OK ? 'OK' : code === ResponseCode.ERROR ? 'ERROR' : 'TIMEOUT';
}
