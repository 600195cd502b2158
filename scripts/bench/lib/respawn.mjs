// The floor for crash → relaunch: a process that does nothing but respawn its one child the
// moment it exits. No state machine, no logging, no log file; what is left is Node's spawn and
// the child's own start-up. Run as `node respawn.mjs <argv...>`; SIGTERM ends it and its child.
//
// Also exported as a bench peer with the same interface as the real managers.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isAlive, tagEnv } from './procfs.mjs';
import { isMain, sleep, waitUntil, withTimeout } from './util.mjs';

if (isMain(import.meta.url)) {
  const [cmd, ...args] = process.argv.slice(2);
  let child = null;
  let stopping = false;
  let started = false;
  const launch = () => {
    child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.once('exit', () => {
      if (!stopping) launch();
    });
  };
  // Waits for the bench's go, like the managers' `start all`, so all are timed from the same point.
  process.on('SIGUSR1', () => {
    if (!started) launch();
    started = true;
  });
  process.once('SIGTERM', () => {
    stopping = true;
    try {
      if (child) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    process.exit(0);
  });
  // Keeps the event loop alive before the first child exists.
  setInterval(() => {}, 1 << 30);
}

export async function startRespawn({ programs, tag }) {
  if (programs.length !== 1) throw new Error('the respawn floor runs exactly one program');
  const script = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, [script, ...programs[0].argv], { env: tagEnv(tag), stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  // The handler must be installed before the go signal, or SIGUSR1 would kill it.
  await sleep(300);
  await waitUntil(() => isAlive(proc.pid), { timeoutMs: 5000, what: 'the respawn loop' });
  return {
    name: 'bare Node respawn',
    pid: proc.pid,
    async startAll() {
      proc.kill('SIGUSR1');
    },
    async countUp() {
      return 1;
    },
    async close() {
      const t0 = performance.now();
      proc.kill('SIGTERM');
      await withTimeout(exited, 5000, 'respawn loop exit').catch(() => proc.kill('SIGKILL'));
      return performance.now() - t0;
    },
  };
}
