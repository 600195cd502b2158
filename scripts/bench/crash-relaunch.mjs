#!/usr/bin/env node
// Crash → relaunch latency of one native child, coxswain vs supervisord vs PM2.
//
// Every manager runs the same child (lib/udp.mjs): bash reports its pid by UDP and execs sleep.
// The bench SIGKILLs that pid and times until the new child's datagram arrives, so the figure is
// what an operator cares about (how long the agent was gone), whatever each manager does inside.
// Every crash comes after a run longer than each manager's "stable run" setting (coxswain
// stable-after 1 s, supervisord startsecs 1, PM2 min_uptime 1000 ms), so all three relaunch at
// once rather than backing off. A bare Node respawn loop (lib/respawn.mjs) runs the same way as
// the floor: what spawning the child costs with no manager logic at all.
//
//   node scripts/bench/crash-relaunch.mjs        (BENCH_CRASHES=n to change the 25 crashes)
import { startCoxswain } from './lib/coxswain.mjs';
import { ensurePm2, startPm2 } from './lib/pm2.mjs';
import { busyMark, busySince, installCleanupOnExit, killTagged, newTag, waitForQuiet } from './lib/procfs.mjs';
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

/** Starts one peer with its own UDP port and waits for its child's first report. */
async function openLane(peer) {
  const slug = peer.name.toLowerCase();
  const lane = { peer, tag: newTag(`crash-${slug}`), dir: makeTempDir(`crash-${slug}`), udp: await pidListener() };
  Object.assign(lane, { mgr: null, pid: null, lastAt: 0, samples: [], spurious: 0, error: null });
  try {
    await peer.prepare?.();
    lane.mgr = await peer.start({ programs: [{ name: 'crasher', argv: reporterArgv(lane.udp.port), autostart: false }], tag: lane.tag, dir: lane.dir });
    await lane.mgr.startAll();
    const first = await lane.udp.next(FIRST_LAUNCH_TIMEOUT_MS);
    Object.assign(lane, { pid: first.pid, lastAt: first.at });
  } catch (err) {
    lane.error = err.message;
  }
  return lane;
}

/** One crash of one lane's child, once it has run long enough to count as stable. */
async function crashOnce(lane, phaseMs) {
  await sleep(Math.max(0, lane.lastAt + RUN_BEFORE_KILL_MS + phaseMs - performance.now()));
  // A report nobody caused means the manager relaunched on its own: worth knowing, not timing.
  lane.spurious += lane.udp.drain().length;
  const t0 = performance.now();
  process.kill(lane.pid, 'SIGKILL');
  const report = await lane.udp.next(RELAUNCH_TIMEOUT_MS);
  if (report.pid === lane.pid) throw new Error(`pid ${lane.pid} reported twice`);
  lane.samples.push(report.at - t0);
  Object.assign(lane, { pid: report.pid, lastAt: report.at });
}

async function closeLane(lane) {
  lane.udp.close();
  if (lane.mgr) await lane.mgr.close().catch((err) => console.error(`${lane.peer.name}: close: ${err.message}`));
  const left = killTagged(lane.tag);
  if (left > 0) console.error(`${lane.peer.name}: killed ${left} process(es) left behind`);
  // A failed run keeps its logs for whoever has to find out why.
  if (lane.error) console.error(`${lane.peer.name}: logs kept in ${lane.dir}`);
  else removeDir(lane.dir);
}

/**
 * All peers run at once and are crashed in turn, one relaunch in flight at a time: an idle
 * manager costs the others nothing, and load from elsewhere on this shared machine then falls on
 * every peer alike instead of on whichever happened to run during it. A peer that fails is
 * reported as such and does not stop the others.
 */
export async function runCrashRelaunch({ crashes = Number(process.env.BENCH_CRASHES ?? 25), peers = CRASH_PEERS } = {}) {
  const lanes = [];
  let busyAtStart = null;
  let mark = null;
  try {
    for (const peer of peers) lanes.push(await openLane(peer));
    busyAtStart = await waitForQuiet();
    mark = busyMark();
    for (let i = 0; i < crashes; i++) {
      process.stderr.write(`\rcrash-relaunch: crash ${i + 1}/${crashes} of each of ${lanes.length} managers `);
      for (const lane of lanes.filter((l) => !l.error)) {
        await crashOnce(lane, Math.round((i * KILL_SPREAD_MS) / crashes)).catch((err) => (lane.error = err.message));
      }
    }
    process.stderr.write('\n');
  } finally {
    for (const lane of lanes) await closeLane(lane);
  }
  const results = {};
  for (const { peer, samples, spurious, error } of lanes) {
    results[peer.name] = error
      ? { error, crashes_done: samples.length }
      : {
          crashes: samples.length,
          median_ms: round(median(samples)),
          p90_ms: round(percentile(samples, 90)),
          min_ms: round(Math.min(...samples)),
          max_ms: round(Math.max(...samples)),
          spurious_relaunches: spurious,
          samples_ms: samples.map((x) => round(x, 1)),
        };
    process.stderr.write(`crash-relaunch: ${peer.name}: ${error ? `FAILED: ${error}` : `median ${results[peer.name].median_ms} ms`}\n`);
  }
  return {
    settings: { crashes, run_before_kill_ms: [RUN_BEFORE_KILL_MS, RUN_BEFORE_KILL_MS + KILL_SPREAD_MS], stable_run_s: STABLE_S },
    machine_busy_pct_at_start: busyAtStart,
    // Managers are all but idle between kills, so this is other people's load on the machine.
    machine_busy_pct_during: mark ? Math.round(busySince(mark)) : null,
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
