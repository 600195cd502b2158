#!/usr/bin/env node
// 1,000 native children (`/bin/sleep 1000000`) under coxswain, supervisord and PM2 in turn:
// - up: from the "start everything" request to all 1,000 reported up by the manager itself
//   (coxswain `update all up` → next_action "up"; supervisord `supervisorctl start all` →
//   RUNNING, startsecs=0 so that RUNNING means spawned, as coxswain's "up" does; PM2
//   `pm2 start ecosystem.json` against a running daemon → "online"), then checked against
//   /proc: 1,000 live sleep processes must exist;
// - the manager process's own CPU seconds spent on that (steadier than wall time on a shared box);
// - idle CPU of the manager process alone (utime+stime from /proc) over 10 s, after 2 s to settle,
//   with nothing polling it;
// - its RSS (VmRSS) after that;
// - shutdown: the manager's own way of stopping with 1,000 children (SIGTERM, or `pm2 kill`).
// Afterwards no sleep of the run may be left: leftovers are counted, reported and killed.
//
//   node scripts/bench/thousand-children.mjs
//   (BENCH_CHILDREN=n, BENCH_ROUNDS=n (3), BENCH_PM2_THOUSAND=0 skips PM2)
import { startCoxswain } from './lib/coxswain.mjs';
import { ensurePm2, startPm2 } from './lib/pm2.mjs';
import { busyMark, busySince, cpuSeconds, installCleanupOnExit, killTagged, newTag, rssMb, taggedPids, waitForQuiet } from './lib/procfs.mjs';
import { ensureSupervisord, startSupervisord } from './lib/supervisord.mjs';
import { isMain, makeTempDir, median, removeDir, round, sleep, waitUntil } from './lib/util.mjs';

const round3 = (x) => round(x, 3);

const SETTLE_MS = 2_000;
const IDLE_MS = 10_000;
/** Far above any target: a manager this slow is reported as failed rather than waited for. */
const UP_TIMEOUT_MS = 240_000;

export const THOUSAND_PEERS = [
  { name: 'coxswain', start: (o) => startCoxswain(o), pollMs: 100 },
  { name: 'supervisord', prepare: ensureSupervisord, start: (o) => startSupervisord({ ...o, startsecs: 0 }), pollMs: 100 },
  // Every `pm2 jlist` is a fresh Node CLI; polling it faster would only load the two cores.
  { name: 'PM2', prepare: ensurePm2, start: (o) => startPm2(o), pollMs: 250, optional: true },
];

async function measure(peer, n) {
  const slug = peer.name.toLowerCase();
  const tag = newTag(`thousand-${slug}`);
  const dir = makeTempDir(`thousand-${slug}`);
  const programs = Array.from({ length: n }, (_, i) => ({
    name: `sleep${String(i).padStart(4, '0')}`,
    argv: ['/bin/sleep', '1000000'],
    autostart: false,
  }));
  let mgr = null;
  let failed = false;
  const result = {};
  try {
    await peer.prepare?.();
    result.machine_busy_pct_at_start = await waitForQuiet();
    mgr = await peer.start({ programs, tag, dir });
    // A manager may be more than one process (coxswain's launcher): all of them count.
    const own = () => [mgr.pid, ...(mgr.helperPids?.() ?? [])];
    const cpuOfAll = (pids) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const pids = own();
    const cpu0 = cpuOfAll(pids);
    const t0 = performance.now();
    // Not awaited on its own: `pm2 start` returns only once everything is online, so the poll
    // below must run beside it, and its end (or failure) is awaited after.
    const starting = mgr.startAll();
    let startError = null;
    starting.catch((err) => (startError = err));
    await waitUntil(
      async () => {
        if (startError) throw startError;
        return (await mgr.countUp()) >= n;
      },
      { timeoutMs: UP_TIMEOUT_MS, intervalMs: peer.pollMs, what: `${n} children up` },
    );
    result.up_s = round((performance.now() - t0) / 1000, 3);
    // The manager's own CPU for the same work: unlike wall time, barely moved by other load.
    result.up_cpu_s = round(cpuOfAll(pids) - cpu0, 3);
    await starting;
    result.live_sleeps = taggedPids(tag, 'sleep').length;
    if (result.live_sleeps !== n) throw new Error(`manager reports ${n} up but /proc has ${result.live_sleeps} sleeps`);

    await sleep(SETTLE_MS);
    const mark = busyMark();
    const idleFrom = { cpu: cpuOfAll(own()), at: performance.now() };
    await sleep(IDLE_MS);
    result.idle_cpu_pct = round((100 * (cpuOfAll(own()) - idleFrom.cpu)) / ((performance.now() - idleFrom.at) / 1000), 3);
    // The manager is idle now: anything else busy on the machine is someone else's load.
    result.machine_busy_pct_during_idle = Math.round(busySince(mark));
    result.rss_mb = round(own().reduce((sum, pid) => sum + rssMb(pid), 0), 1);

    const stopping = mgr;
    mgr = null;
    result.shutdown_s = round((await stopping.close()) / 1000, 3);
    // Give the kernel a moment to reap before counting what the manager left running.
    await sleep(500);
    result.sleeps_left_after_shutdown = taggedPids(tag, 'sleep').length;
    return result;
  } catch (err) {
    failed = true;
    err.partial = result;
    throw err;
  } finally {
    if (mgr) await mgr.close().catch((err) => console.error(`${peer.name}: close: ${err.message}`));
    const left = killTagged(tag);
    if (left > 0) console.error(`${peer.name}: killed ${left} process(es) left behind`);
    if (failed) console.error(`${peer.name}: logs kept in ${dir}`);
    else removeDir(dir);
  }
}

const METRICS = ['up_s', 'up_cpu_s', 'idle_cpu_pct', 'rss_mb', 'shutdown_s', 'sleeps_left_after_shutdown'];

/**
 * `rounds` rounds, each running every peer once, in turn: the machine is shared, and interleaving
 * spreads any background load over all peers alike. Each metric is the median over the rounds a
 * peer completed; every round's figures are kept under `runs`.
 */
export async function runThousand({
  n = Number(process.env.BENCH_CHILDREN ?? 1000),
  rounds = Number(process.env.BENCH_ROUNDS ?? 3),
  peers = THOUSAND_PEERS,
} = {}) {
  const runs = Object.fromEntries(peers.map((p) => [p.name, []]));
  const active = peers.filter((p) => !(p.optional && process.env.BENCH_PM2_THOUSAND === '0'));
  for (let round = 1; round <= rounds; round++) {
    for (const peer of active) {
      process.stderr.write(`thousand-children: round ${round}/${rounds}, ${peer.name}, ${n} children ... `);
      try {
        const r = await measure(peer, n);
        runs[peer.name].push(r);
        process.stderr.write(`up in ${r.up_s} s, idle CPU ${r.idle_cpu_pct} %, RSS ${r.rss_mb} MB, shutdown ${r.shutdown_s} s\n`);
      } catch (err) {
        runs[peer.name].push({ error: err.message, ...err.partial });
        process.stderr.write(`FAILED: ${err.message}\n`);
      }
    }
  }
  const results = {};
  for (const peer of peers) {
    if (!active.includes(peer)) {
      results[peer.name] = { skipped: 'BENCH_PM2_THOUSAND=0' };
      continue;
    }
    const ok = runs[peer.name].filter((r) => !r.error);
    if (ok.length === 0) {
      results[peer.name] = { error: runs[peer.name].map((r) => r.error).join('; '), runs: runs[peer.name] };
      continue;
    }
    results[peer.name] = { rounds_ok: ok.length, runs: runs[peer.name] };
    for (const m of METRICS) results[peer.name][m] = round3(median(ok.map((r) => r[m])));
  }
  return { settings: { children: n, rounds, settle_ms: SETTLE_MS, idle_window_ms: IDLE_MS }, results };
}

if (isMain(import.meta.url)) {
  installCleanupOnExit();
  const { results } = await runThousand();
  console.log('| manager | up s | up CPU s | idle CPU % | RSS MB | shutdown s | sleeps left |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(results)) {
    const cells = [r.up_s, r.up_cpu_s, r.idle_cpu_pct, r.rss_mb, r.shutdown_s, r.sleeps_left_after_shutdown].map((x) => x ?? '—');
    console.log(`| ${name} | ${cells.join(' | ')} |${r.error ? ` failed: ${r.error}` : ''}`);
  }
}
