/**
 * Runs real agents in the test process (through `startAgent`, as benchmarks do) against a fake
 * controller, each with its own temporary directory for config, history, ids and logs. Timings
 * are shortened so that kill escalation, restart backoff and sampling fit in a test.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach } from 'vitest';
import { startAgent, type AgentOptions, type RunningAgent } from '../../src/agent/agent.js';
import { loadAgentConfig } from '../../src/agent/config/load.js';
import type { AgentConfig, DbLoggerConfig } from '../../src/agent/config/types.js';
import type { JobInput } from './agent-fake-controller.js';

export const AGENT_FIXTURES = fileURLToPath(new URL('../fixtures/agent/', import.meta.url));

export const FAST: Omit<AgentOptions, 'logger'> = {
  killGraceMs: 300,
  restartBackoff: { baseMs: 50, maxMs: 200, jitter: 0 },
  reconnectBackoff: { baseMs: 50, maxMs: 200, jitter: 0 },
  sampleIntervalMs: 200,
  stopDeadlineMs: 2000,
};

export interface AgentRun {
  agent: RunningAgent;
  config: AgentConfig;
  dir: string;
  /** What the agent logged, as parsed pino lines. */
  lines: Record<string, unknown>[];
}

const running: RunningAgent[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
});

export function tempDir(prefix = 'cox-agent-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A config for node 1/10 polling the controller at `url`; `main` adds [main] keys, `rest` sections. */
export function agentToml(url: string, opts: { main?: string; rest?: string } = {}): string {
  return `[main]\ngid = 1\nnid = 10\nroles = ["storage"]\n${opts.main ?? ''}\n\n[controllers.main]\nurl = "${url}"\n\n${opts.rest ?? ''}\n`;
}

/** Writes `text` as `dir/agent.toml` and starts an agent on it; stopped after the test. */
export function runAgent(dir: string, text: string, opts: Partial<AgentOptions> = {}): AgentRun {
  writeFileSync(join(dir, 'agent.toml'), text);
  const config = loadAgentConfig(join(dir, 'agent.toml'));
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const agent = startAgent(config, { ...FAST, logger, ...opts });
  running.push(agent);
  return { agent, config, dir, lines };
}

/** An `execute` job running a fixture script with node. */
export function nodeJob(id: string, script: string, argv: string[] = [], args: Record<string, unknown> = {}, more: Partial<JobInput> = {}): JobInput {
  return { id, cmd: 'execute', ...more, args: { name: process.execPath, args: [AGENT_FIXTURES + script, ...argv], ...args } };
}

/** The pids `tree.mjs` wrote, once it has. */
export function treePids(file: string): number[] | null {
  try {
    const pids = readFileSync(file, 'utf8').split(' ').map(Number);
    return pids.length === 2 ? pids : null;
  } catch {
    return null;
  }
}

/** `start`/`end` lines of `sleep.mjs` as intervals per tag. */
export function intervals(log: string): Map<string, { start: number; end: number }> {
  const spans = new Map<string, { start: number; end: number }>();
  for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
    const [what, tag, at] = line.split(' ');
    const span = spans.get(tag!) ?? { start: 0, end: 0 };
    span[what as 'start' | 'end'] = Number(at);
    spans.set(tag!, span);
  }
  return spans;
}

/** A DB logger's configuration in `logDir`: 1 MiB and an hour a file, three files. */
export const dbLoggerConfig = (logDir: string, more: Partial<DbLoggerConfig> = {}): DbLoggerConfig => ({
  name: 'db',
  type: 'DB',
  levels: 'all',
  logDir,
  maxFileBytes: 1024 * 1024,
  maxFileAgeMs: 3_600_000,
  maxFiles: 3,
  ...more,
});
