/**
 * The public shapes of the op registry (REFERENCE 1.5, 4): what ops are given, what actions
 * answer, and what get_api lists. Re-exported by registry.ts, which most callers import.
 */
import type { CoxError } from '../shared/errors.js';
import type { ResponseCode } from './codes.js';
import type { OpSession, SessionJSON } from './session.js';

export type EmptySession = Record<string, never>;
export type Reply = [ResponseCode, string, SessionJSON | EmptySession];
/** A reply plus, for an ERROR, the coded error behind it (HTTP faces map it to a status). */
export interface Outcome {
  reply: Reply;
  error?: CoxError;
}
export type OpType = 'task' | 'process';
export type OpAction = 'start' | 'stop' | 'abort' | 'wait' | 'status';

export interface OpContext<P> {
  session: OpSession;
  params: P;
  /**
   * Aborted by `stop` (process) or `abort` (task), with reason `'stop'` / `'abort'`; `run` should
   * then wind down and resolve. (A stop that lands before `run` begins means it is never called.)
   */
  signal: AbortSignal;
}
export interface OpDefinition<P> {
  /** Resolves `[success, message]` when the op ends; the message becomes its last. */
  run: (ctx: OpContext<P>) => Promise<[boolean, string]>;
  /** Validates raw client params (`{}` when none were sent); throw Errors.BAD_REQUEST to refuse. */
  parseParams?: (raw: unknown) => P;
  docstring: string;
  /** Tasks only: whether `abort` may signal it. */
  abortable?: boolean;
}
export interface OpInfo {
  blocking: false;
  docstring: string;
  op_type: OpType;
  min_privs: 1;
  abortable: boolean;
}
export type ApiEntry = [string, SessionJSON | { op_name: string; status: 'no_history' }, OpInfo];
export interface OpsDescription {
  tasks: ApiEntry[];
  processes: ApiEntry[];
}
/** The part of a pino logger we use. */
export interface OpLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
