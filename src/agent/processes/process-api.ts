/**
 * The agent's half of the process API (REFERENCE 3), assembled: the journal in the state dir, the
 * processes (adopting survivors of an earlier run), one exit reporter per controller (each offering
 * what its controller does not take to the other polled ones), and the facts the agent announces
 * when it connects — its cores and every process it still knows, so a controller can tell which
 * of the processes it handed this node were lost with a restart.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Cores } from '../../protocol/process.js';
import type { Backoff } from '../backoff.js';
import type { ControllerClient } from '../transport/controller-client.js';
import { cpuCores } from './cpu-topology.js';
import { ProcessJournal } from './journal.js';
import { NamedProcesses } from './named-processes.js';
import { exitReporters } from './reporter.js';

export interface ProcessApiOptions {
  stateDir: string;
  clients: ReadonlyMap<string, ControllerClient>;
  /** The polled controllers (`[channel]`). */
  channel: readonly string[];
  logger: Logger;
  killGraceMs: number;
  backoff: Backoff;
}

export interface ProcessApi {
  processes: NamedProcesses;
  /** Added to the `startup` and `reconnect` events: the cores, and the processes known right now. */
  facts(): { cores: Cores; processes: string[] };
  /** Kills every process, reports their ends for up to `deadlineMs`, closes the journal. */
  stop(deadlineMs: number): Promise<void>;
}

export function startProcessApi(o: ProcessApiOptions): ProcessApi {
  const journal = new ProcessJournal(path.join(o.stateDir, 'processes.journal'));
  if (journal.skipped > 0) o.logger.warn({ file: path.join(o.stateDir, 'processes.journal'), lines: journal.skipped }, 'unreadable process journal lines skipped');
  // Their controller is no longer configured: nobody could ever take them.
  const orphans = journal.unreported().filter((e) => !o.clients.has(e.origin));
  if (orphans.length > 0) {
    o.logger.warn({ processes: orphans.map((e) => e.name) }, 'process ends owed to controllers no longer configured: dropped');
    journal.acked(orphans.map((e) => e.id));
  }
  const sends = new Map([...o.clients].map(([key, client]) => [key, client.processExits.bind(client)]));
  const reporters = exitReporters({ sends, channel: o.channel, journal, logger: o.logger, backoff: o.backoff });
  const processes = new NamedProcesses({ journal, killGraceMs: o.killGraceMs, logger: o.logger, onExit: (origin) => reporters.get(origin)?.kick() });
  for (const r of reporters.values()) r.kick();
  const cores = cpuCores();
  return {
    processes,
    facts: () => ({ cores, processes: processes.known() }),
    async stop(deadlineMs) {
      await processes.stop();
      await Promise.all([...reporters.values()].map((r) => r.stop(deadlineMs)));
      journal.close();
    },
  };
}
