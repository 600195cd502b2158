/**
 * The named processes of this agent (REFERENCE 3): started on a controller's word, each one's end
 * written to the journal before it is reported, and kept there until the controller has it.
 *
 * Processes outlive a killed agent (each leads its own process group, and writes to its own
 * files). A restarted agent finds them in the journal and adopts those still running — the pid
 * with the same start time — watching them until they end. It is not their parent, so it cannot
 * learn their exit status: they are reported EXIT_LOST, as are those that ended while it was down.
 */
import type { Logger } from 'pino';
import { EXIT_LOST, type ProcessSpec } from '../../protocol/process.js';
import { processStartTime, signalGroup } from '../../shared/proc.js';
import type { ProcessJournal, RunningRecord } from './journal.js';
import { launch } from './launch.js';

export interface NamedProcessesOptions {
  journal: ProcessJournal;
  /** SIGTERM → SIGKILL of a cancelled process group. */
  killGraceMs: number;
  logger: Logger;
  /** A process's end is in the journal: report it to the controller `origin`. */
  onExit: (origin: string) => void;
}

/** How often adopted processes are checked: the kernel will not tell us when they end. */
const WATCH_MS = 200;

interface Live extends RunningRecord {
  adopted: boolean;
  killTimer: NodeJS.Timeout | null;
}

export class NamedProcesses {
  readonly #live = new Map<string, Live>();
  readonly #watch: NodeJS.Timeout;
  #drained: (() => void) | null = null;

  constructor(private readonly o: NamedProcessesOptions) {
    for (const r of o.journal.running()) {
      if (r.start !== null && processStartTime(r.pid) === r.start) this.#live.set(r.id, { ...r, adopted: true, killTimer: null });
      else this.#ended(r, EXIT_LOST, 'ended while the agent was down; exit status unknown');
    }
    if (this.#live.size > 0) o.logger.info({ processes: [...this.#live.values()].map((p) => p.name) }, 'adopted processes started before the agent restarted');
    this.#watch = setInterval(() => this.#checkAdopted(), WATCH_MS);
  }

  /** Starts `spec` as the process `id`; its end (even a failure to start) comes through onExit. */
  start(id: string, spec: ProcessSpec, origin: string): { pid: number | null } {
    const record = { id, name: spec.name, origin };
    const pid = launch(spec, (code, reason) => this.#ended(this.#live.get(id) ?? { ...record, pid: 0, start: null }, code, reason));
    if (pid === null) return { pid };
    const live: Live = { ...record, pid, start: processStartTime(pid), adopted: false, killTimer: null };
    this.#live.set(id, live);
    this.o.journal.started({ id, name: spec.name, origin, pid, start: live.start });
    return { pid };
  }

  /** SIGTERM to every process group, SIGKILL after the grace period; answers how many. */
  cancelAll(): number {
    for (const p of this.#live.values()) {
      if (p.killTimer || !this.#signal(p, 'SIGTERM')) continue;
      p.killTimer = setTimeout(() => this.#signal(p, 'SIGKILL'), this.o.killGraceMs);
    }
    return this.#live.size;
  }

  /** Every process id this agent owes the controller an answer about. */
  known(): string[] {
    return this.o.journal.known();
  }

  /** Cancels every process and waits until all have ended (their ends are journaled). */
  async stop(): Promise<void> {
    this.cancelAll();
    if (this.#live.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    clearInterval(this.#watch);
  }

  /** Signals the group unless it is an adopted process whose pid now names another process. */
  #signal(p: Live, signal: NodeJS.Signals): boolean {
    if (p.adopted && processStartTime(p.pid) !== p.start) return false;
    signalGroup(p.pid, signal);
    return true;
  }

  #checkAdopted(): void {
    for (const p of this.#live.values()) {
      if (!p.adopted || processStartTime(p.pid) === p.start) continue;
      // The leader is gone; its group may not be.
      signalGroup(p.pid, 'SIGKILL');
      this.#ended(p, EXIT_LOST, 'the agent restarted while it ran; exit status unknown');
    }
  }

  #ended(p: Pick<Live, 'id' | 'name' | 'origin'> & Partial<Live>, exitCode: number, reason: string): void {
    if (p.killTimer) clearTimeout(p.killTimer);
    this.#live.delete(p.id);
    this.o.journal.exited({ id: p.id, name: p.name, origin: p.origin, exit_code: exitCode, reason, ended: Date.now() });
    this.o.onExit(p.origin);
    if (this.#live.size === 0) this.#drained?.();
  }
}
