#!/usr/bin/env node
// Runs every benchmark in one go (`npm run bench`), prints one markdown table of coxswain against
// its peers with ratios and targets, and writes the figures to scripts/bench/results/latest.json.
// A peer that fails shows as failed in the table; the run itself still completes and cleans up.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runCrashRelaunch } from './crash-relaunch.mjs';
import { runThousand } from './thousand-children.mjs';
import { runDockerRestart } from './docker-restart.mjs';
import { main as runController } from './controller-bench.mjs';
import { main as runProcesses } from './processes-bench.mjs';
import { main as runRestartReload } from './restart-reload.mjs';
import { installCleanupOnExit, killAllTagged } from './lib/procfs.mjs';
import { COX_ROOT } from './lib/coxswain.mjs';
import { run } from './lib/util.mjs';

/** Everything together takes about 20 minutes; past this something is stuck, not slow. */
const HARD_LIMIT_MS = 45 * 60_000;
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

installCleanupOnExit();
const hardLimit = setTimeout(() => {
  console.error(`bench: still running after ${HARD_LIMIT_MS / 60_000} min; killing everything`);
  killAllTagged();
  process.exit(2);
}, HARD_LIMIT_MS);

async function versions() {
  const first = async (cmd, args) => {
    const r = await run(cmd, args, { timeoutMs: 10_000, cwd: COX_ROOT });
    return r.code === 0 ? (r.stdout || r.stderr).trim().split('\n')[0] : null;
  };
  const pkg = (file) => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')).version;
    } catch {
      return null;
    }
  };
  // A snapshot without .git says which commit it is in BENCH_COX_REV.
  const rev = (await first('git', ['rev-parse', '--short', 'HEAD'])) ?? process.env.BENCH_COX_REV ?? 'unknown commit';
  const dirty = (await first('git', ['status', '--porcelain', '--', 'src'])) ? ' + uncommitted changes in src/' : '';
  return {
    coxswain: `${pkg(`${COX_ROOT}/package.json`)} (${rev}${dirty})`,
    coxswain_root: COX_ROOT,
    supervisord: await first('supervisord', ['--version']),
    pm2: pkg(fileURLToPath(new URL('./.peers/node_modules/pm2/package.json', import.meta.url))),
    node: process.version,
  };
}

const startedAt = new Date().toISOString();
const crash = await runCrashRelaunch();
const thousand = await runThousand();
// The other parts' benches write their own results files; a failing one does not stop the rest.
const soft = async (name, fn) => {
  try {
    return await fn();
  } catch (err) {
    console.error(`bench ${name} failed: ${err.message}`);
    return { error: err.message };
  }
};
const others = {
  restart_reload: await soft('restart-reload', runRestartReload),
  docker_restart: await soft('docker-restart', runDockerRestart),
  controller: await soft('controller', runController),
  processes: await soft('processes', runProcesses),
};
clearTimeout(hardLimit);

const results = {
  started_at: startedAt,
  finished_at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? null, kernel: os.release(), tmpdir: os.tmpdir() },
  versions: await versions(),
  crash_relaunch: crash,
  thousand_children: thousand,
  restart_reload: others.restart_reload,
  docker_restart: others.docker_restart,
};
mkdirSync(RESULTS, { recursive: true });
writeFileSync(`${RESULTS}latest.json`, `${JSON.stringify(results, null, 1)}\n`);

// ---- the table

const fmt = (x, digits = 1) => (typeof x === 'number' ? x.toFixed(digits) : '—');
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? `${(a / b).toFixed(2)}×` : '—');
const met = (ok) => (ok === null ? 'n/a' : ok ? 'yes' : '**no**');
const c = crash.results;
const t = thousand.results;
const cell = (r, key, digits) => (r?.error ? 'failed' : r?.skipped ? 'skipped' : fmt(r?.[key], digits));
const both = (key) => `${ratio(c.coxswain?.[key], c.supervisord?.[key])} sup · ${ratio(c.coxswain?.[key], c.PM2?.[key])} PM2`;
const bothT = (key) => `${ratio(t.coxswain?.[key], t.supervisord?.[key])} sup · ${ratio(t.coxswain?.[key], t.PM2?.[key])} PM2`;
const num = (x) => typeof x === 'number';

const rows = [
  ['crash → relaunch, median (ms)', 'median_ms', c, 2, both('median_ms'),
    met(num(c.coxswain?.median_ms) && num(c.PM2?.median_ms) ? c.coxswain.median_ms <= 0.5 * c.PM2.median_ms : null) + ' (≤ 0.5 × PM2)'],
  ['crash → relaunch, p90 (ms)', 'p90_ms', c, 2, both('p90_ms'), ''],
  [`${thousand.settings.children} children up (s)`, 'up_s', t, 2, bothT('up_s'), met(num(t.coxswain?.up_s) ? t.coxswain.up_s <= 3 : null) + ' (≤ 3 s)'],
  ['CPU used to bring them up (s, manager process)', 'up_cpu_s', t, 2, bothT('up_cpu_s'), ''],
  ['idle CPU with them (% of a core)', 'idle_cpu_pct', t, 2, bothT('idle_cpu_pct'),
    met(num(t.coxswain?.idle_cpu_pct) ? t.coxswain.idle_cpu_pct <= 1 : null) + ' (≤ 1 %)'],
  ['RSS with them (MB)', 'rss_mb', t, 0, bothT('rss_mb'), met(num(t.coxswain?.rss_mb) ? t.coxswain.rss_mb <= 200 : null) + ' (≤ 200 MB)'],
  ['shutdown with them (s)', 'shutdown_s', t, 2, bothT('shutdown_s'), ''],
];
const lines = [
  '| metric | coxswain | supervisord | PM2 | ratio (coxswain ÷ peer) | target met? |',
  '|---|---|---|---|---|---|',
  ...rows.map(([label, key, r, d, rat, target]) =>
    `| ${label} | ${cell(r.coxswain, key, d)} | ${cell(r.supervisord, key, d)} | ${cell(r.PM2, key, d)} | ${rat} | ${target} |`),
];
console.log(`\n${lines.join('\n')}\n`);
if (num(c.floor?.median_ms)) {
  console.log(`Floor (a bare Node loop that only respawns the same child): median ${fmt(c.floor.median_ms, 2)} ms, p90 ${fmt(c.floor.p90_ms, 2)} ms.`);
}
const errors = [...Object.entries(c), ...Object.entries(t)].filter(([, r]) => r.error);
for (const [name, r] of errors) console.log(`${name} failed: ${r.error}`);
const leftovers = Object.entries(t).filter(([, r]) => r.sleeps_left_after_shutdown > 0);
for (const [name, r] of leftovers) console.log(`${name} left ${r.sleeps_left_after_shutdown} sleep(s) running after its shutdown (killed by the bench).`);
// Other people's work on this shared machine inflates every figure; say so next to them.
const busy = [];
const note = (where, ...xs) => {
  const most = Math.max(0, ...xs.filter(num));
  if (most > 20) busy.push(`${where} ${most} %`);
};
note('crash bench', crash.machine_busy_pct_at_start, crash.machine_busy_pct_during);
for (const [name, r] of Object.entries(t)) {
  (r.runs ?? []).forEach((x, i) => note(`${name} 1,000 round ${i + 1}`, x.machine_busy_pct_at_start, x.machine_busy_pct_during_idle));
}
if (busy.length) console.log(`Warning: other load on the machine during: ${busy.join(', ')} (of 2 cores); those figures are inflated.`);
console.log(`Results: ${RESULTS}latest.json`);
