/**
 * A native child launched by an earlier run of the host manager, re-attached after a restart.
 * We are not its parent, so the kernel will not tell us when it exits: its pid is checked once a
 * second instead (a signal-0 syscall; the start time guards against a reused pid). Once it dies it
 * is relaunched as our own child, and from then on exits are seen as events again.
 */
import { isRunning, processStartTime, signalGroup } from '../../shared/proc.js';
import type { NativeProcessEvents } from './native-process.js';

export const ATTACHED_POLL_MS = 1_000;
const STOPPING_POLL_MS = 50;

export class AttachedProcess {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pid: number,
    private readonly startTime: string,
    private readonly events: Pick<NativeProcessEvents, 'onSpawn' | 'onExit'>,
    private readonly pollMs = ATTACHED_POLL_MS,
  ) {}

  start(): void {
    queueMicrotask(() => this.events.onSpawn(this.pid));
    this.watch();
  }

  /** Watches for its exit without announcing it: for a process already known to be running. */
  watch(): void {
    this.timer = setInterval(() => this.check(), this.pollMs);
    this.timer.unref();
  }

  signalGroup(signal: NodeJS.Signals): void {
    signalGroup(this.pid, signal);
    // Once stopping, its exit is expected soon and should not wait a whole poll to be noticed.
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = setInterval(() => this.check(), STOPPING_POLL_MS);
      this.timer.unref();
    }
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** Stops watching without touching the process. */
  detach(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private check(): void {
    if (this.timer === null) return;
    if (isRunning(this.pid) && processStartTime(this.pid) === this.startTime) return;
    this.detach();
    signalGroup(this.pid, 'SIGKILL');
    this.events.onExit(null, null);
  }
}
