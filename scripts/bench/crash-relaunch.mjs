#!/usr/bin/env node
// Crash → relaunch latency of one native child, coxswain vs supervisord vs PM2.
//
// Every manager runs the same child (lib/udp.mjs): bash reports its pid by UDP and execs sleep.
// The bench SIGKILLs that pid and times until the new child's datagram arrives, so the figure is
// what an operator cares about (how long the agent was gone), whatever each manager does inside.
// Every crash comes after a run longer than each manager's "stable run" setting (coxswain
// stable-after 1 s, supervisord startsecs 1, PM2 min_uptime 1000 ms), so all three relaunch at
// once rather than backing off. A bare Node respawn loop (lib/respawn.mjs) runs the same way as
// the floor: what spawning the child costs with no manager logic at all. The managers run one
// after the other, never side by side, so they do not compete for the two cores.
//
//   node scripts/bench/crash-relaunch.mjs        (BENCH_CRASHES=n to change the 25 crashes)
import { startCoxswain } from './lib/coxswain.mjs';
import { ensurePm2, startPm2 } from './lib/pm2.mjs';
import { installCleanupOnExit, killTagged, newTag, waitForQuiet } from './lib/procfs.mjs';
import { ensureSupervisord, startSupervisord } from './lib/supervisord.mjs';
import { startRespawn } from './lib/respawn.mjs';
import { pidListener, reporterArgv } from './lib/udp.mjs';
import { isMain, makeTempDir, median, percentile, removeDir, round, sleep } from './lib/util.mjs';

const STABLE_S = 1;
/** Longer than every stable-run setting, so each kill counts as a one-off crash. */
const RUN_BEFORE_KILL_MS = 1500;
/**
 * The kills are spread evenly over this much more, so that a manager that only looks at its
 * children once per tick (supervisord's 1 s poll loop) is caught at every phase of its tick and
 * not always at the same, lucky or unlucky, one.
 */
const KILL_SPREAD_MS = 1000;
const FIRST_LAUNCH_TIMEOUT_MS = 30_000;
const RELAUNCH_TIMEOUT_MS = 10_000;

export const CRASH_PEERS = [
  { name: 'coxswain', start: (o) => startCoxswain({ ...o, stableAfterS: STABLE_S }) },
  { name: 'supervisord', prepare: ensureSupervisord, start: (o) => startSupervisord({ ...o, startsecs: STABLE_S }) },
  { name: 'PM2', prepare: ensurePm2, start: (o) => startPm2({ ...o, minUptimeMs: STABLE_S * 1000 }) },
  { name: 'floor', start: (o) => startRespawn(o) },
];

async function measure(peer, crashes) {
  const slug = peer.name.toLowerCase();
  const tag = newTag(`crash-${slug}`);
  const dir = makeTempDir(`crash-${slug}`);
  const udp = await pidListener();
  let mgr = null;
  let failed = false;
  try {
    await peer.prepare?.();
    const busy = await waitForQuiet();
    mgr = await peer.start({ programs: [{ name: 'crasher', argv: reporterArgv(udp.port), autostart: false }], tag, dir });
    await mgr.startAll();
    let { pid } = await udp.next(FIRST_LAUNCH_TIMEOUT_MS);
    const samples = [];
    let spurious = 0;
    for (let i = 0; i < crashes; i++) {
      await sleep(RUN_BEFORE_KILL_MS + Math.round((i * KILL_SPREAD_MS) / crashes));
      // A report nobody caused means the manager relaunched on its own: worth knowing, not timing.
      spurious += udp.drain().length;
      const t0 = performance.now();
      process.kill(pid, 'SIGKILL');
      const report = await udp.next(RELAUNCH_TIMEOUT_MS);
      if (report.pid === pid) throw new Error(`pid ${pid} reported twice`);
      samples.push(report.at - t0);
      pid = report.pid;
    }
    return {
      crashes: samples.length,
      median_ms: round(median(samples)),
      p90_ms: round(percentile(samples, 90)),
      min_ms: round(Math.min(...samples)),
      max_ms: round(Math.max(...samples)),
      spurious_relaunches: spurious,
      machine_busy_pct_at_start: busy,
      samples_ms: samples.map((x) => round(x, 1)),
    };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    udp.close();
    if (mgr) await mgr.close().catch((err) => console.error(`${peer.name}: close: ${err.message}`));
    const left = killTagged(tag);
    if (left > 0) console.error(`${peer.name}: killed ${left} process(es) left behind`);
    // A failed run keeps its logs for whoever has to find out why.
    if (failed) console.error(`${peer.name}: logs kept in ${dir}`);
    else removeDir(dir);
  }
}

/** Runs every peer in turn; a peer that fails is reported as such and does not stop the others. */
export async function runCrashRelaunch({ crashes = Number(process.env.BENCH_CRASHES ?? 25), peers = CRASH_PEERS } = {}) {
  const results = {};
  for (const peer of peers) {
    process.stderr.write(`crash-relaunch: ${peer.name}, ${crashes} crashes ... `);
    const t0 = performance.now();
    try {
      results[peer.name] = await measure(peer, crashes);
      process.stderr.write(`median ${results[peer.name].median_ms} ms (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    } catch (err) {
      results[peer.name] = { error: err.message };
      process.stderr.write(`FAILED: ${err.message}\n`);
    }
  }
  return {
    settings: { crashes, run_before_kill_ms: [RUN_BEFORE_KILL_MS, RUN_BEFORE_KILL_MS + KILL_SPREAD_MS], stable_run_s: STABLE_S },
    results,
  };
}

if (isMain(import.meta.url)) {
  installCleanupOnExit();
  const { results } = await runCrashRelaunch();
  console.log('| manager | median ms | p90 ms | min ms | max ms |');
  console.log('|---|---|---|---|---|');
  for (const [name, r] of Object.entries(results)) {
    console.log(r.error ? `| ${name} | failed: ${r.error} | | | |` : `| ${name} | ${r.median_ms} | ${r.p90_ms} | ${r.min_ms} | ${r.max_ms} |`);
  }
}
