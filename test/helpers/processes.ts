/**
 * Real `cox agent` daemons for the process API tests, each in its own directory (state survives a
 * restart in the same directory), and a collector that calls get_finished the way MUSCLE3's
 * instantiator does, keeping every answer so a test can check that each name came exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControllerClient, FinishedProcess } from '../../src/client/controller-client.js';
import { COX } from './daemon.js';
import { waitUntil } from './wait.js';

export interface AgentProcess {
  proc: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
  kill: (signal: NodeJS.Signals) => Promise<number | null>;
}

/** Starts `cox agent` for node 1_<nid> polling `url`, with its files in `dir`; `wrap` prefixes the command (taskset). */
export function startCoxAgent(dir: string, url: string, nid: number, wrap: string[] = []): AgentProcess {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'agent.toml'), `[main]\ngid = 1\nnid = ${nid}\n\n[controllers.main]\nurl = "${url}"\n`);
  const argv = [...wrap, process.execPath, COX, 'agent', '-c', 'agent.toml', '--log-level', 'debug'];
  const proc = spawn(argv[0]!, argv.slice(1), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const kill = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return exited;
  };
  return { proc, exited, output: () => out, kill };
}

/** Everything get_finished answered, in order: duplicates would show here. */
export class Collector {
  readonly seen: FinishedProcess[] = [];

  constructor(private readonly client: ControllerClient) {}

  /** One call; waits up to `waitS` for something to finish. */
  async once(waitS = 0): Promise<FinishedProcess[]> {
    const got = await this.client.getFinishedDetails({ wait: waitS });
    this.seen.push(...got);
    return got;
  }

  /** Calls until every name in `names` came, then once more to show nothing else is left. */
  async until(names: readonly string[], timeoutMs = 20_000): Promise<Map<string, FinishedProcess>> {
    await waitUntil(async () => {
      await this.once(0.5);
      return names.every((n) => this.seen.some((p) => p.name === n));
    }, timeoutMs, `${names.length} processes to finish`);
    await this.once();
    return new Map(this.seen.map((p) => [p.name, p]));
  }

  /** Names in the order they came; each once when the API keeps its promise. */
  names(): string[] {
    return this.seen.map((p) => p.name);
  }
}

/** The live node names the controller lists. */
export async function waitForNodes(client: ControllerClient, nodes: string[], timeoutMs = 10_000): Promise<void> {
  await waitUntil(async () => {
    const live = await client.listSessions();
    return nodes.every((n) => n in live);
  }, timeoutMs, `nodes ${nodes.join(', ')} to connect`);
}
