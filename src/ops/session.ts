/**
 * One run of an operation, as OCS clients see it (REFERENCE 1.5). The op's own code writes
 * `data`, `degraded` and messages; the registry drives `status` and `success`.
 *
 * Invariants:
 * - `status` only moves forward through starting → running → stopping → done. A backward move is
 *   ignored (and reported by `setStatus` returning false) rather than thrown: a process that
 *   announces "running" after a stop already arrived must not resurrect itself nor crash.
 * - `end_time` is set exactly once, when the status becomes `done`; `finished` resolves then.
 * - Only the last `maxMessages` messages (default 100) are kept. OCS purges by age (one hour,
 *   at most 10,000); a count bound keeps a long-running `manager` session's replies small.
 */
import { OpCode } from './codes.js';

export type OpStatus = 'starting' | 'running' | 'stopping' | 'done';
/** `[unix seconds, text]`. */
export type OpMessage = [number, string];

/** The wire form of a session, as OCS's `OpSession.encoded()`. */
export interface SessionJSON {
  session_id: number;
  op_name: string;
  op_code: OpCode;
  status: OpStatus;
  degraded: boolean;
  success: boolean | null;
  start_time: number;
  end_time: number | null;
  data: unknown;
  messages: OpMessage[];
}

export interface OpSessionOptions {
  /** Milliseconds since the epoch; injected so tests control timestamps. */
  now?: () => number;
  maxMessages?: number;
  /** Called for every message, so the owner can log it with the op's provenance. */
  onMessage?: (session: OpSession, text: string) => void;
}

export const DEFAULT_MAX_MESSAGES = 100;
const ORDER: readonly OpStatus[] = ['starting', 'running', 'stopping', 'done'];
// setTimeout fires at once beyond this; longer waits are treated as "no limit".
const MAX_TIMER_MS = 2_147_483_647;

export class OpSession {
  readonly start_time: number;
  end_time: number | null = null;
  /** Null until the op is done; the registry sets it from the op's result. */
  success: boolean | null = null;
  /** Free-form, JSON-serialisable op state for clients (e.g. the manager's child_states). */
  data: unknown = {};
  /** While running, turns op_code into DEGRADED (8) as in OCS. */
  degraded = false;
  /** Resolves when the status reaches `done`; never rejects. */
  readonly finished: Promise<void>;

  #status: OpStatus = 'starting';
  #messages: OpMessage[] = [];
  readonly #now: () => number;
  readonly #max: number;
  readonly #onMessage: ((session: OpSession, text: string) => void) | undefined;
  readonly #doneListeners = new Set<() => void>();

  constructor(
    readonly session_id: number,
    readonly op_name: string,
    opts: OpSessionOptions = {},
  ) {
    this.#now = opts.now ?? Date.now;
    this.#max = Math.max(1, opts.maxMessages ?? DEFAULT_MAX_MESSAGES);
    this.#onMessage = opts.onMessage;
    this.finished = new Promise((resolve) => this.#doneListeners.add(() => resolve()));
    this.start_time = this.#seconds();
    this.addMessage('Status is now "starting".', this.start_time);
  }

  get status(): OpStatus {
    return this.#status;
  }

  get messages(): readonly OpMessage[] {
    return this.#messages;
  }

  get isDone(): boolean {
    return this.#status === 'done';
  }

  /** Moves the status forward; returns false (and changes nothing) for a same or backward move. */
  setStatus(next: OpStatus): boolean {
    if (ORDER.indexOf(next) <= ORDER.indexOf(this.#status)) return false;
    const ts = this.#seconds();
    this.#status = next;
    if (next === 'done') this.end_time = ts;
    this.addMessage(`Status is now "${next}".`, ts);
    if (next === 'done') {
      for (const listener of [...this.#doneListeners]) listener();
      this.#doneListeners.clear();
    }
    return true;
  }

  /**
   * Resolves true once the session is done, or false when `timeoutSec` passes (null: no limit)
   * or `signal` aborts, whichever is first. A waiter that gives up drops its listener and timer,
   * so timed-out polls on a process that runs for weeks do not pile up.
   */
  waitDone(timeoutSec: number | null, signal?: AbortSignal): Promise<boolean> {
    if (this.isDone) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        this.#doneListeners.delete(finish);
        resolve(this.isDone);
      };
      const ms = timeoutSec === null ? Infinity : Math.max(0, timeoutSec * 1000);
      if (ms <= MAX_TIMER_MS) timer = setTimeout(finish, ms);
      if (signal?.aborted) return finish();
      signal?.addEventListener('abort', finish, { once: true });
      this.#doneListeners.add(finish);
    });
  }

  addMessage(text: string, timestamp = this.#seconds()): void {
    this.#messages.push([timestamp, text]);
    if (this.#messages.length > this.#max) this.#messages.splice(0, this.#messages.length - this.#max);
    this.#onMessage?.(this, text);
  }

  get op_code(): OpCode {
    switch (this.#status) {
      case 'starting':
        return OpCode.STARTING;
      case 'running':
        return this.degraded ? OpCode.DEGRADED : OpCode.RUNNING;
      case 'stopping':
        return OpCode.STOPPING;
      case 'done':
        return this.success === true ? OpCode.SUCCEEDED : OpCode.FAILED;
    }
  }

  /**
   * A detached snapshot: later changes to the live session (the op keeps running while a reply is
   * serialised) never leak into it. `data` goes through JSON, so NaN and Infinity become null;
   * data that JSON cannot hold (BigInt, cycles) is replaced by an explanation instead of failing
   * the whole reply.
   */
  encode(): SessionJSON {
    return {
      session_id: this.session_id,
      op_name: this.op_name,
      op_code: this.op_code,
      status: this.#status,
      degraded: this.degraded,
      success: this.success,
      start_time: this.start_time,
      end_time: this.end_time,
      data: snapshot(this.data),
      messages: this.#messages.map(([ts, text]): OpMessage => [ts, text]),
    };
  }

  #seconds(): number {
    return this.#now() / 1000;
  }
}

function snapshot(data: unknown): unknown {
  if (data === undefined) return null;
  try {
    const text = JSON.stringify(data);
    return text === undefined ? null : (JSON.parse(text) as unknown);
  } catch (err) {
    return { error: `session data is not JSON-serialisable: ${(err as Error).message}` };
  }
}
