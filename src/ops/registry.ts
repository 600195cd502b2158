/**
 * The operations an agent exposes, and the five OCS actions on them (REFERENCE 1.5, 4). Every
 * action answers with OCS's `[code, message, session]` tuple, message texts as in OCS's
 * `ocs_agent.py` so OCS users see what they know. Differences from OCS, on purpose:
 * - one "unknown op" text for every action (OCS varies it per action);
 * - stop/abort replies have no stray quote and name the op type properly;
 * - abort on a task registered without `abortable` is an ERROR, not a silent no-op;
 * - after `stopAll` the registry is closed: `start` answers ERROR.
 * An op's `run` never brings the registry down: a throw ends its session FAILED with a
 * `CRASH:` message (`ERROR:` for a thrown Errors.BAD_REQUEST), like OCS.
 */
import { CoxError, Errors, isCoxError } from '../shared/errors.js';
import { ResponseCode } from './codes.js';
import { OpSession, type SessionJSON } from './session.js';
import type {
  EmptySession, OpAction, OpDefinition, OpInfo, OpLogger, OpsDescription, OpType, Outcome, Reply,
} from './types.js';

export type * from './types.js';

export interface OpRegistryOptions {
  /** Milliseconds since the epoch, for session timestamps. */
  now?: () => number;
  logger?: OpLogger;
  maxMessages?: number;
}

interface Entry {
  name: string;
  type: OpType;
  def: OpDefinition<unknown>;
  session?: OpSession;
  controller?: AbortController;
}

const { OK, ERROR, TIMEOUT } = ResponseCode;
const noop = () => {};
const silent: OpLogger = { info: noop, warn: noop, error: noop };

export class OpRegistry {
  readonly #ops = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #log: OpLogger;
  readonly #maxMessages: number | undefined;
  #nextId = 0;
  #closed = false;

  constructor(opts: OpRegistryOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#log = opts.logger ?? silent;
    this.#maxMessages = opts.maxMessages;
  }

  registerTask<P>(name: string, def: OpDefinition<P>): void {
    this.#register(name, 'task', def as unknown as OpDefinition<unknown>);
  }

  /** A process runs until its `run` resolves; `stop` aborts `ctx.signal`. */
  registerProcess<P>(name: string, def: OpDefinition<P>): void {
    const erased = def as unknown as OpDefinition<unknown>;
    this.#register(name, 'process', { ...erased, abortable: false });
  }

  has(name: string): boolean {
    return this.#ops.has(name);
  }
  /** The current or most recent session; undefined if the op never ran. */
  session(name: string): OpSession | undefined {
    return this.#ops.get(name)?.session;
  }
  isRunning(name: string): boolean {
    const s = this.session(name);
    return s !== undefined && !s.isDone;
  }

  start(name: string, params?: unknown): Reply {
    return this.#start(name, params).reply;
  }
  stop(name: string, _params?: unknown): Reply {
    return this.#halt('stop', name).reply;
  }
  abort(name: string): Reply {
    return this.#halt('abort', name).reply;
  }
  status(name: string): Reply {
    return this.#status(name).reply;
  }
  /** `timeoutSec`: null waits until done, `<= 0` answers at once. `signal` ends the wait early (TIMEOUT). */
  async wait(name: string, timeoutSec: number | null, signal?: AbortSignal): Promise<Reply> {
    return (await this.#wait(name, timeoutSec, signal)).reply;
  }

  /** Any action by name, with the coded error behind an ERROR reply. `timeout` defaults to null. */
  async perform(
    action: OpAction,
    name: string,
    opts: { params?: unknown; timeout?: number | null; signal?: AbortSignal } = {},
  ): Promise<Outcome> {
    if (action === 'wait') return this.#wait(name, opts.timeout ?? null, opts.signal);
    if (action === 'start') return this.#start(name, opts.params);
    if (action === 'status') return this.#status(name);
    return this.#halt(action, name);
  }

  /** For get_api: every op with its latest session and static info, each list sorted by name. */
  describe(): OpsDescription {
    const out: OpsDescription = { tasks: [], processes: [] };
    // Code-unit order, as Python's sorted() on str; localeCompare would disagree on case.
    const byName = [...this.#ops.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of byName) {
      const session = e.session?.encode() ?? { op_name: e.name, status: 'no_history' as const };
      const abortable = e.def.abortable === true;
      const info: OpInfo = { blocking: false, docstring: e.def.docstring, op_type: e.type, min_privs: 1, abortable };
      (e.type === 'task' ? out.tasks : out.processes).push([e.name, session, info]);
    }
    return out;
  }

  /**
   * Shutdown: closes the registry to new starts, stops every running process, aborts every
   * abortable task, and waits for all running ops (non-abortable tasks included) to end, at most
   * `deadlineMs`. Resolves with the names still running at the deadline (empty when clean).
   * An op that calls this on itself should expect to be listed.
   */
  async stopAll(deadlineMs: number): Promise<string[]> {
    this.#closed = true;
    const running = [...this.#ops.values()].filter((e) => e.session !== undefined && !e.session.isDone);
    for (const e of running) {
      if (e.type === 'process') this.#halt('stop', e.name);
      else if (e.def.abortable) this.#halt('abort', e.name);
    }
    await Promise.all(running.map((e) => e.session!.waitDone(deadlineMs / 1000)));
    return running.filter((e) => !e.session!.isDone).map((e) => e.name);
  }

  #register(name: string, type: OpType, def: OpDefinition<unknown>): void {
    if (this.#ops.has(name)) throw Errors.ILLEGAL_STATE(`an operation called "${name}" is already registered`);
    this.#ops.set(name, { name, type, def });
  }

  #start(name: string, raw: unknown): Outcome {
    const e = this.#ops.get(name);
    if (!e) return unknown(name);
    if (this.#closed) return fail(Errors.ILLEGAL_STATE(`Cannot start "${name}": shutting down.`));
    if (e.session && !e.session.isDone) {
      return fail(Errors.ILLEGAL_STATE(`Operation "${name}" already in progress.`), e.session.encode());
    }
    let params: unknown = raw ?? {};
    try {
      if (e.def.parseParams) params = e.def.parseParams(params);
    } catch (err) {
      this.#log.warn({ op: name, err }, 'params refused');
      return fail(isCoxError(err) ? err : Errors.BAD_REQUEST(`CRASH: during param pre-processing: ${text(err)}`));
    }
    const session = new OpSession(this.#nextId++, name, {
      now: this.#now,
      maxMessages: this.#maxMessages,
      onMessage: (s, msg) => this.#log.info({ op: name, session_id: s.session_id }, msg),
    });
    const controller = new AbortController();
    Object.assign(e, { session, controller });
    const reply: Reply = [OK, `Started ${e.type} "${name}".`, session.encode()];
    void this.#launch(e, session, params, controller.signal);
    return { reply };
  }

  async #launch(e: Entry, session: OpSession, params: unknown, signal: AbortSignal): Promise<void> {
    await null; // like OCS, the op begins after `start` has answered
    let result: [boolean, string];
    try {
      if (signal.aborted) result = [false, `Stop requested before "${e.name}" began.`];
      else {
        session.setStatus('running');
        result = await e.def.run({ session, params, signal });
        if (!Array.isArray(result) || typeof result[0] !== 'boolean') {
          result = [false, `CRASH: "${e.name}" returned no [ok, message] result`];
        }
      }
    } catch (err) {
      this.#log.error({ op: e.name, session_id: session.session_id, err }, 'operation crashed');
      result = [false, `${isCoxError(err, Errors.BAD_REQUEST) ? 'ERROR' : 'CRASH'}: ${text(err)}`];
    }
    session.addMessage(String(result[1]));
    session.success = result[0];
    session.setStatus('done');
  }

  #halt(kind: 'stop' | 'abort', name: string): Outcome {
    const e = this.#ops.get(name);
    if (!e) return unknown(name);
    if (e.type !== (kind === 'stop' ? 'process' : 'task')) {
      return fail(Errors.ILLEGAL_STATE(`Cannot "${kind}" "${name}" because it is a "${e.type}".`));
    }
    if (kind === 'abort' && !e.def.abortable) {
      return fail(Errors.ILLEGAL_STATE(`Task "${name}" is not abortable.`));
    }
    const s = e.session;
    if (!s) return fail(Errors.ILLEGAL_STATE('No session active.'));
    if (s.status === 'stopping' || s.isDone) {
      return fail(Errors.ILLEGAL_STATE(`The operation is already ${s.status}`));
    }
    s.setStatus('stopping');
    e.controller?.abort(kind);
    return { reply: [OK, `Requested ${kind} on ${e.type} "${name}".`, s.encode()] };
  }

  #status(name: string): Outcome {
    const e = this.#ops.get(name);
    if (!e) return unknown(name);
    const s = e.session;
    return { reply: s ? [OK, 'Session active.', s.encode()] : [OK, 'No session active.', {}] };
  }

  async #wait(name: string, timeoutSec: number | null, signal?: AbortSignal): Promise<Outcome> {
    const e = this.#ops.get(name);
    if (!e) return unknown(name);
    const s = e.session;
    if (!s) return { reply: [OK, 'Idle.', {}] };
    if (!s.isDone && (timeoutSec === null || timeoutSec > 0)) {
      await s.waitDone(timeoutSec, signal);
    }
    // Checked after the race, as OCS does: an op that ended on the timeout's tick counts as done.
    if (s.isDone) {
      const how = s.success === true ? 'SUCCEEDED' : 'FAILED';
      return { reply: [OK, `Operation "${name}" is currently not running (${how}).`, s.encode()] };
    }
    return { reply: [TIMEOUT, `Operation "${name}" still running; wait timed out.`, s.encode()] };
  }
}

function unknown(name: string): Outcome {
  return fail(Errors.NOT_FOUND(`operation "${name}"`), {}, `No task or process called "${name}"`);
}

function fail(error: CoxError, session: SessionJSON | EmptySession = {}, message = error.message): Outcome {
  return { reply: [ERROR, message, session], error };
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
