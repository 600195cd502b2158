/**
 * The host manager's side of the launcher process (launcher-main.ts): sends it orders and hands
 * its reports to whoever placed each launch.
 *
 * A process the launcher relaunched on its own is offered to the next launch of the same child
 * with the same spec — the launch the state machine makes when it, too, decides "relaunch at
 * once" on hearing of the exit. If no such launch claims it within the same turn of the event
 * loop (the target went down meanwhile, the spec changed), it is withdrawn: killed.
 *
 * If the launcher dies, the children it started keep running but their exits can no longer be
 * reported: each is handed back as orphaned, to be watched by pid, and the next launch forks a
 * new launcher.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signalGroup } from '../../shared/proc.js';
import type { LaunchOrder, LauncherOrder, LauncherReport } from './orders.js';

export interface LaunchEvents {
  onSpawn(pid: number): void;
  onExit(code: number | null, signal: string | null): void;
  /** No process exists. `recoverable` is false when retrying cannot help. */
  onSpawnError(message: string, recoverable: boolean): void;
  /** The launcher died while this child ran: it lives on, but nobody will report its exit. */
  onOrphaned(pid: number): void;
}

export type LaunchRequest = Omit<LaunchOrder, 'type' | 'ref'>;

export interface LaunchHandle {
  /** Signals the process group; the launcher will not relaunch it after this. */
  signal(signal: NodeJS.Signals): void;
}

interface Placed {
  /** The child it is for, and its launch spec: what a relaunch must match to be claimed. */
  child: string;
  spec: string;
  /** Null for a relaunch nobody has claimed yet. */
  events: LaunchEvents | null;
  pid: number | null;
}

/**
 * The compiled launcher beside this module. Under the test runner this module is its TypeScript
 * source, and only the build in dist/ can run as a process of its own.
 */
export function launcherEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? resolve(dirname(here), '../../../dist/hostmanager/launcher/launcher-main.js') : resolve(dirname(here), 'launcher-main.js');
}

export class Launcher {
  #process: ChildProcess | null = null;
  #ref = 0;
  readonly #placed = new Map<number, Placed>();
  /** Child → the ref of its process the launcher relaunched, until a launch claims it. */
  readonly #relaunched = new Map<string, number>();

  constructor(private readonly opts: { entry?: string; onDeath?: (why: string) => void; onWithdrawn?: (child: string) => void } = {}) {}

  /** Forks the launcher now, so that the first launch does not wait for Node to start. */
  start(): void {
    this.#ensure();
  }

  launch(child: string, request: LaunchRequest, events: LaunchEvents): LaunchHandle {
    const spec = JSON.stringify([request.argv, request.cwd, request.env, request.logFile]);
    const claimed = this.#claim(child, spec, events);
    if (claimed !== null) return this.#handle(claimed);
    const launcher = this.#ensure();
    const ref = ++this.#ref;
    this.#place(ref, { child, spec, events, pid: null });
    launcher.send({ type: 'launch', ref, ...request } satisfies LaunchOrder, (err) => {
      if (err && this.#placed.get(ref)?.pid === null) this.#settle(ref)?.events?.onSpawnError(`launcher: ${err.message}`, true);
    });
    return this.#handle(ref);
  }

  /** Lets the launcher go; children still running carry on without it. */
  close(): void {
    const launcher = this.#process;
    this.#process = null;
    if (launcher?.connected) launcher.disconnect();
    this.#orphanAll();
  }

  #claim(child: string, spec: string, events: LaunchEvents): number | null {
    const ref = this.#relaunched.get(child);
    if (ref === undefined) return null;
    this.#relaunched.delete(child);
    const placed = this.#placed.get(ref);
    if (!placed || placed.events !== null) return null;
    if (placed.spec !== spec) {
      this.#withdraw(ref);
      return null;
    }
    placed.events = events;
    const { pid } = placed;
    if (pid !== null) queueMicrotask(() => events.onSpawn(pid));
    return ref;
  }

  #handle(ref: number): LaunchHandle {
    return { signal: (signal) => this.#send({ type: 'signal', ref, signal }) };
  }

  #withdraw(ref: number): void {
    const placed = this.#placed.get(ref);
    if (placed) this.opts.onWithdrawn?.(placed.child);
    this.#send({ type: 'signal', ref, signal: 'SIGKILL' });
  }

  #send(order: LauncherOrder): void {
    if (this.#process?.connected) this.#process.send(order);
  }

  #ensure(): ChildProcess {
    if (this.#process) return this.#process;
    // A small young generation: the launcher allocates little per launch, and every page it keeps
    // is memory the host manager is charged for and that each fork copies the mapping of.
    const execArgv = ['--max-semi-space-size=1'];
    const launcher = fork(this.opts.entry ?? launcherEntry(), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv, serialization: 'json' });
    launcher.on('message', (report: LauncherReport) => this.#onReport(report));
    launcher.once('exit', (code, signal) => this.#onDeath(launcher, `launcher exited (${signal ?? `code ${code}`})`));
    launcher.once('error', (err) => this.#onDeath(launcher, `launcher failed: ${err.message}`));
    launcher.unref();
    launcher.channel?.unref();
    return (this.#process = launcher);
  }

  #onReport(report: LauncherReport): void {
    if (report.type === 'spawned') {
      const placed = this.#placed.get(report.ref);
      if (!placed) return;
      placed.pid = report.pid;
      placed.events?.onSpawn(report.pid);
      return;
    }
    const placed = this.#settle(report.ref);
    if (!placed) return;
    if (report.type === 'failed') return placed.events?.onSpawnError(report.message, report.recoverable);
    if (report.relaunched !== undefined) this.#offer(placed, report.relaunched);
    placed.events?.onExit(report.code, report.signal);
  }

  /** Holds a relaunch for the next launch of its child, withdrawn if none claims it this turn. */
  #offer(previous: Placed, ref: number): void {
    this.#place(ref, { child: previous.child, spec: previous.spec, events: null, pid: null });
    // An unclaimed process that crashed and was relaunched in turn is nobody's either.
    if (previous.events === null) return this.#withdraw(ref);
    this.#relaunched.set(previous.child, ref);
    setImmediate(() => {
      if (this.#relaunched.get(previous.child) !== ref) return;
      this.#relaunched.delete(previous.child);
      this.#withdraw(ref);
    });
  }

  #onDeath(launcher: ChildProcess, why: string): void {
    if (this.#process !== launcher) return;
    this.#process = null;
    this.opts.onDeath?.(why);
    this.#orphanAll();
  }

  #orphanAll(): void {
    const placed = [...this.#placed.values()];
    this.#placed.clear();
    this.#relaunched.clear();
    for (const { events, pid } of placed) {
      if (events === null) {
        if (pid !== null) signalGroup(pid, 'SIGKILL');
      } else if (pid === null) events.onSpawnError('the launcher process went away before the child started', true);
      else events.onOrphaned(pid);
    }
  }

  #place(ref: number, placed: Placed): void {
    this.#placed.set(ref, placed);
    // Launches in flight keep the event loop alive, as children of our own would.
    this.#process?.channel?.ref();
  }

  /** Forgets a launch that ended. */
  #settle(ref: number): Placed | undefined {
    const placed = this.#placed.get(ref);
    this.#placed.delete(ref);
    if (this.#placed.size === 0) this.#process?.channel?.unref();
    return placed;
  }
}
