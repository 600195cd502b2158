#!/usr/bin/env node
// Named processes (REFERENCE 3) at volume: the built controller and 4 `cox agent` daemons on
// loopback, 1,000 short processes (/bin/true, output to files) started through the typed client
// with a bounded number of starts in flight, and collected with get_finished (long-polling) as
// they end, after a warm-up round of 100 that is not counted. Reports processes/s (first start
// sent → last exit collected), the start rate, the time from a process's exit (the agent's clock;
// same machine) to the get_finished reply that carried it, and the CPU time each side used.
// Checks every process came exactly once, with exit code 0.
//
// Standalone: `npm run build && node scripts/bench/processes-bench.mjs` prints the figures and
// writes scripts/bench/results/processes.json; `main()` is exported for a runner.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COX = join(ROOT, 'dist/cli/main.js');
const RESULTS = fileURLToPath(new URL('./results/processes.json', import.meta.url));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function daemon(args, cwd) {
  const proc = spawn(process.execPath, [COX, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return {
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitFor(what, probe, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A loopback port nobody listens on right now: the controller logs at warn, so it cannot tell us its own. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) a process has used so far; clock ticks are 100 per second on Linux. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * Starts `count` processes named `<prefix><n>` round-robin over `nodes`, `inFlight` starts at a
 * time, while collecting with get_finished; answers the rates, the exit → get_finished latencies,
 * and what came more or less than once.
 */
async function startAndCollect({ client, nodes, work, prefix, count, inFlight }) {
  const names = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
  const seen = new Map();
  const latencies = [];
  let duplicates = 0;
  let startsDone = false;
  let lastStart = Date.now();
  const t0 = performance.now();
  const collecting = (async () => {
    while (seen.size < count) {
      const got = await client.getFinishedDetails({ wait: 1 });
      const at = Date.now();
      for (const p of got) {
        if (seen.has(p.name)) duplicates++;
        seen.set(p.name, p);
        latencies.push(at - p.ended);
      }
      // Something lost for good would otherwise keep the bench waiting forever.
      if (startsDone && got.length === 0 && Date.now() - lastStart > 30_000) break;
    }
  })();
  let next = 0;
  const starter = async () => {
    while (next < names.length) {
      const i = next++;
      const name = names[i];
      await client.start(nodes[i % nodes.length], name, work, ['/bin/true'], {}, join(work, `${name}.out`), join(work, `${name}.err`));
      lastStart = Date.now();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, starter));
  const startedMs = performance.now() - t0;
  startsDone = true;
  await collecting;
  const totalMs = performance.now() - t0;
  const extra = await client.getFinishedDetails();
  latencies.sort((a, b) => a - b);
  return {
    processes_per_s: Math.round(count / (totalMs / 1000)),
    starts_per_s: Math.round(count / (startedMs / 1000)),
    total_ms: Math.round(totalMs),
    exit_to_get_finished_ms: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies.at(-1) },
    exactly_once: { collected: seen.size, missing: count - seen.size, duplicates: duplicates + extra.length, non_zero_exit: [...seen.values()].filter((p) => p.exit_code !== 0).length },
  };
}

const round2 = (x) => Math.round(x * 100) / 100;

/** `warmup` processes first, not counted: the first second (JIT, first connections) is not the steady state. */
export async function main({ processes = 1000, agents = 4, inFlight = 64, warmup = 100 } = {}) {
  const { ControllerClient } = await import(pathToFileURL(join(ROOT, 'dist/client/controller-client.js')).href);
  const dir = mkdtempSync(join(os.tmpdir(), 'cox-bench-proc-'));
  const running = [];
  try {
    const url = `http://127.0.0.1:${await freePort()}`;
    const controller = daemon(['controller', '--port', new URL(url).port, '--db', join(dir, 'controller.db'), '--log-level', 'warn'], dir);
    running.push(controller);
    for (let nid = 1; nid <= agents; nid++) {
      const home = join(dir, `agent-${nid}`);
      mkdirSync(home);
      writeFileSync(join(home, 'agent.toml'), `[main]\ngid = 1\nnid = ${nid}\n\n[controllers.main]\nurl = "${url}"\n`);
      running.push(daemon(['agent', '-c', 'agent.toml', '--log-level', 'warn'], home));
    }
    const client = new ControllerClient({ url, timeoutMs: 60_000 });
    const nodes = Array.from({ length: agents }, (_, i) => `1_${i + 1}`);
    await waitFor('the agents', async () => {
      const live = await client.listSessions().catch(() => ({}));
      return nodes.every((n) => n in live);
    });
    const work = join(dir, 'work');
    mkdirSync(work);

    const round = (prefix, count) => startAndCollect({ client, nodes, work, prefix, count, inFlight });
    await round('warmup-', warmup);
    const cpuBefore = running.map((d) => cpuSeconds(d.proc.pid));
    const clientBefore = process.cpuUsage();
    const measured = await round('p', processes);
    const [controllerCpu, ...agentCpu] = running.map((d, i) => cpuSeconds(d.proc.pid) - cpuBefore[i]);
    const clientCpu = process.cpuUsage(clientBefore);
    const result = {
      bench: 'processes',
      at: new Date().toISOString(),
      machine: { cpus: os.availableParallelism(), node: process.version },
      processes,
      warmup_processes: warmup,
      agents,
      starts_in_flight: inFlight,
      command: '/bin/true',
      ...measured,
      cpu_seconds: { controller: round2(controllerCpu), agents: round2(agentCpu.reduce((a, b) => a + b, 0)), bench_client: round2((clientCpu.user + clientCpu.system) / 1e6) },
    };
    mkdirSync(join(RESULTS, '..'), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    for (const d of running.reverse()) await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await main();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  const { missing, duplicates, non_zero_exit } = result.exactly_once;
  process.exitCode = missing || duplicates || non_zero_exit ? 1 : 0;
}
