// coxswain as a bench peer: the built daemon (dist/) with a generated SCF, driven over its REST
// API exactly as `cox` drives it. Set BENCH_COX_CPU_PROF=<dir> to have the daemon write a V8 CPU
// profile into <dir> when it exits (the run's temp dir is deleted, so it must be elsewhere).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tagEnv } from './procfs.mjs';
import { freePort, waitUntil, withTimeout } from './util.mjs';

/**
 * The build under test: this checkout's dist/, or BENCH_COX_ROOT's (e.g. a clean snapshot of HEAD
 * built elsewhere while the working tree holds someone's half-done change).
 */
export const COX_ROOT = resolve(process.env.BENCH_COX_ROOT ?? fileURLToPath(new URL('../../../', import.meta.url)));
const MAIN = join(COX_ROOT, 'dist/cli/main.js');

/**
 * programs: [{name, argv, autostart}]. `stableAfterS` is the run length after which an exit
 * counts as a one-off crash and is relaunched at once.
 */
export async function startCoxswain({ programs, tag, dir, stableAfterS = 1 }) {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run \`npm run build\` first`);
  const port = await freePort();
  const scfFile = join(dir, 'bench.yaml');
  // JSON is YAML, and saves quoting the bash one-liner for a YAML writer.
  const scf = {
    hosts: {
      localhost: {
        'log-dir': join(dir, 'logs'),
        'agent-instances': [
          { 'agent-class': 'HostManager', 'instance-id': 'hm-bench' },
          ...programs.map((p) => ({
            'agent-class': 'Bench',
            'instance-id': p.name,
            manage: p.autostart ? 'host/up' : 'host/down',
            command: p.argv,
            'stop-timeout': 5,
            restart: { 'stable-after': stableAfterS },
          })),
        ],
      },
    },
  };
  writeFileSync(scfFile, JSON.stringify(scf, null, 1));

  const profDir = process.env.BENCH_COX_CPU_PROF ? resolve(process.env.BENCH_COX_CPU_PROF) : null;
  // 100 µs samples: a relaunch takes a few ms, which the default 1 ms interval barely sees.
  const nodeFlags = profDir ? ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${profDir}`] : [];
  // A file, not a pipe: the daemon's synchronous logging must never wait on the bench reading it.
  const out = openSync(join(dir, 'daemon.log'), 'a');
  const args = ['hostmanager', '--site-file', scfFile, '--site-host', 'localhost', '--port', String(port), '--state-dir', join(dir, 'state')];
  // Run as the systemd unit and scripts/run.sh run it, with the same V8 flags.
  const { NODE_FLAGS } = await import(pathToFileURL(join(COX_ROOT, 'dist/systemd/node-flags.js')).href);
  const child = spawn(process.execPath, [...nodeFlags, ...NODE_FLAGS.hostmanager, MAIN, ...args], {
    cwd: dir,
    env: tagEnv(tag),
    stdio: ['ignore', out, out],
    detached: true,
  });
  closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const base = `http://127.0.0.1:${port}`;
  const api = async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    return res.json();
  };
  const children = async () => (await api('GET', '/api/children')).children;

  const handle = {
    name: 'coxswain',
    pid: child.pid,
    /** The host manager's other process, the launcher: its memory and CPU count as the manager's. */
    helperPids: () => launcherPids(child.pid),
    logFile: join(dir, 'daemon.log'),
    async startAll() {
      await api('POST', '/api/ops/update/start', { requests: [['all', 'up']] });
      await api('POST', '/api/ops/update/wait', { timeout: 10 });
    },
    async countUp() {
      return (await children()).filter((c) => c.next_action === 'up').length;
    },
    /** SIGTERM, the way systemd stops it: every child down, then exit. Returns ms taken. */
    async close() {
      const t0 = performance.now();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        try {
          await withTimeout(exited, 30_000, 'coxswain shutdown');
        } catch (err) {
          child.kill('SIGKILL');
          await withTimeout(exited, 5_000, 'coxswain SIGKILL').catch(() => {});
          throw err;
        }
      }
      const ms = performance.now() - t0;
      if (profDir) console.error(`coxswain CPU profiles in ${profDir}`);
      return ms;
    },
  };

  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}; see ${handle.logFile}`);
        return (await children()).length === programs.length;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `coxswain to list ${programs.length} children` },
    );
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
  return handle;
}


function launcherPids(daemonPid) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === daemonPid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('launcher-main.js')) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
