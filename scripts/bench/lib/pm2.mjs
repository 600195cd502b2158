// PM2 as a bench peer: installed on demand into scripts/bench/.peers (not a project dependency),
// with a PM2_HOME of its own in the run's temp dir so it never touches a user's PM2.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, tagEnv } from './procfs.mjs';
import { run, sleep, waitUntil } from './util.mjs';

const PEERS = fileURLToPath(new URL('../.peers/', import.meta.url));
const PM2 = join(PEERS, 'node_modules/pm2/bin/pm2');

export async function ensurePm2() {
  if (existsSync(PM2)) return;
  console.error(`PM2 missing: npm install --prefix ${PEERS} pm2@6`);
  mkdirSync(PEERS, { recursive: true });
  const r = await run('npm', ['install', '--prefix', PEERS, '--no-audit', '--no-fund', 'pm2@6'], { timeoutMs: 300_000 });
  if (!existsSync(PM2)) throw new Error(`cannot install pm2: ${(r.stderr || r.stdout).slice(-500)}`);
}

/**
 * programs: [{name, argv}]; PM2 starts every app it is given (its `autostart: false` apps are not
 * started by `pm2 start all` either), so `startAll` is `pm2 start ecosystem.json` against a daemon
 * that is already up. `minUptimeMs` is PM2's "stable run".
 */
export async function startPm2({ programs, tag, dir, minUptimeMs = 1000 }) {
  const home = join(dir, 'pm2-home');
  const env = { ...tagEnv(tag), PM2_HOME: home };
  const pm2 = (args, timeoutMs = 60_000) => run(process.execPath, [PM2, ...args], { env, timeoutMs, cwd: dir });
  const eco = join(dir, 'ecosystem.json');
  const apps = programs.map((p) => ({
    name: p.name,
    script: p.argv[0],
    args: p.argv.slice(1),
    interpreter: 'none',
    cwd: dir,
    autorestart: true,
    min_uptime: minUptimeMs,
    restart_delay: 0,
    // Our crashes come after stable runs; the cap must not be what stops a long bench.
    max_restarts: 100_000,
  }));
  writeFileSync(eco, JSON.stringify({ apps }, null, 1));

  let daemonPid = null;
  const handle = {
    name: 'PM2',
    get pid() {
      return daemonPid;
    },
    async startAll() {
      const r = await pm2(['start', eco], 600_000);
      if (r.code !== 0) throw new Error(`pm2 start failed (${r.code}): ${(r.stderr || r.stdout).slice(-500)}`);
    },
    async countUp() {
      const r = await pm2(['jlist'], 60_000);
      if (r.code !== 0) throw new Error(`pm2 jlist failed: ${r.stderr.slice(-300)}`);
      // jlist may print a banner or warnings before the JSON array.
      const list = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
      return list.filter((p) => p.pm2_env?.status === 'online').length;
    },
    /** `pm2 kill`: stops every app and the daemon. Returns ms taken. */
    async close() {
      const t0 = performance.now();
      await pm2(['kill'], 120_000);
      const ms = performance.now() - t0;
      if (daemonPid !== null && isAlive(daemonPid)) {
        process.kill(daemonPid, 'SIGKILL');
        await sleep(200);
      }
      return ms;
    },
  };

  // `pm2 ping` spawns the daemon, so the timed start does not include the daemon's own boot.
  const r = await pm2(['ping'], 60_000);
  try {
    if (r.code !== 0) throw new Error(`pm2 ping failed: ${(r.stderr || r.stdout).slice(-500)}`);
    daemonPid = await waitUntil(
      () => {
        const pid = Number(readFileSync(join(home, 'pm2.pid'), 'utf8').trim());
        return pid > 0 && isAlive(pid) ? pid : null;
      },
      { timeoutMs: 15_000, what: 'the PM2 daemon pid file' },
    );
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
  return handle;
}
