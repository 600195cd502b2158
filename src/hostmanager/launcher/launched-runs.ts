/**
 * The launcher's processes, by ref, and the one decision it takes by itself: relaunching a child
 * that crashed after a run long enough that the restart policy already said "at once". Waiting
 * for the host manager to hear of the exit, run its state machine and send the order back cost
 * about a millisecond per crash; the host manager is still told, and still decides everything else.
 */
import { signalGroup } from '../../shared/proc.js';
import type { LaunchOrder, LauncherReport } from './orders.js';
import { spawnChild } from './spawn-child.js';

/**
 * Added to the policy's threshold: the host manager times a run from its own receipt of the
 * launcher's reports, which can lag when it is busy, and both sides must agree that the run was
 * long enough. A relaunch both would not agree on is withdrawn (killed) by the host manager.
 */
export const RELAUNCH_MARGIN_MS = 250;

/** Whether a run of `ranForMs` that ended may be relaunched at once, given its order's threshold. */
export function mayRelaunch(afterMs: number | null, ranForMs: number): boolean {
  if (afterMs === null) return false;
  return afterMs === 0 || ranForMs >= afterMs + RELAUNCH_MARGIN_MS;
}

interface Run {
  order: LaunchOrder;
  pid: number | null;
  startedAt: number;
  /** Null once the host manager signalled it: a process being stopped is never relaunched. */
  afterMs: number | null;
}

export class LaunchedRuns {
  readonly #runs = new Map<number, Run>();
  #relaunches = 0;

  constructor(
    private readonly report: (report: LauncherReport) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  launch(order: LaunchOrder, ref = order.ref, afterMs = order.relaunchAfterMs): void {
    const run: Run = { order, pid: null, startedAt: this.now(), afterMs };
    this.#runs.set(ref, run);
    spawnChild(order, {
      spawned: (pid) => {
        run.pid = pid;
        run.startedAt = this.now();
        this.report({ type: 'spawned', ref, pid });
      },
      failed: (message, recoverable) => {
        this.#runs.delete(ref);
        this.report({ type: 'failed', ref, message, recoverable });
      },
      exited: (code, signal) => this.#exited(ref, run, code, signal),
    });
  }

  signal(ref: number, signal: NodeJS.Signals): void {
    const run = this.#runs.get(ref);
    if (!run) return;
    run.afterMs = null;
    if (run.pid !== null) signalGroup(run.pid, signal);
  }

  #exited(ref: number, run: Run, code: number | null, signal: string | null): void {
    this.#runs.delete(ref);
    let relaunched: number | undefined;
    if (mayRelaunch(run.afterMs, this.now() - run.startedAt)) {
      relaunched = -++this.#relaunches;
      this.launch(run.order, relaunched, run.order.thenRelaunchAfterMs);
    }
    this.report({ type: 'exited', ref, code, signal, ...(relaunched === undefined ? {} : { relaunched }) });
    // Grandchildren left in the group would outlive their parent and hold its resources. Killed
    // after the relaunch, which is not held up by it; the new child has a group of its own.
    if (run.pid !== null) signalGroup(run.pid, 'SIGKILL');
  }
}
