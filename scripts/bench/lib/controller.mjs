// coxswain's controller as a bench subject: the built daemon (dist/) on a loopback port with its
// SQLite file in the run's temp dir, plus a small keep-alive HTTP client for the bench's own
// clients and simulated agents. Set BENCH_CONTROLLER_CPU_PROF=<dir> to have the daemon write a
// V8 CPU profile into <dir> when it exits (the temp dir is deleted, so it must be elsewhere).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { COX_ROOT } from './coxswain.mjs';
import { tagEnv } from './procfs.mjs';
import { freePort, run, waitUntil, withTimeout } from './util.mjs';

const MAIN = join(COX_ROOT, 'dist/cli/main.js');

/**
 * A keep-alive HTTP/1.1 client for one loopback port. Requests share a pool of sockets that is
 * never trimmed (`maxFreeSockets`), so thousands of long polls each keep their connection.
 * Answers `{status, text}`; the caller parses what it needs.
 */
export function keepAliveClient(port, { maxSockets = Infinity } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: 1 << 20, scheduling: 'lifo' });
  const request = (method, path, body, { timeoutMs = 120_000 } = {}) =>
    new Promise((resolvePromise, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
      const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolvePromise({ status: res.statusCode, text }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  return { agent, request, destroy: () => agent.destroy() };
}

/** `sh -c 'ulimit -n <hard>; exec ...'`: thousands of connections need more than the usual 1024 fds. */
export function withRaisedFdLimit(argv) {
  return ['/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...argv]];
}

/** The hard limit on open files a child can raise itself to. */
export async function hardFdLimit() {
  const r = await run('/bin/sh', ['-c', 'ulimit -Hn'], { timeoutMs: 5000 });
  const v = r.stdout.trim();
  return v === 'unlimited' ? Infinity : Number(v);
}

export function vmStatusMb(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : null;
}

/**
 * Starts `cox controller` and waits for /api/health. `args` are extra flags, e.g.
 * ['--poll-timeout', '30s']; with `redisUrl` the store is that Redis instead of a SQLite file.
 * Returns {pid, port, logFile, close()}; close() is SIGTERM, then SIGKILL if it does not exit in
 * time.
 */
export async function startController({ dir, tag, args = [], redisUrl = null }) {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run \`npm run build\` first`);
  const port = await freePort();
  const profDir = process.env.BENCH_CONTROLLER_CPU_PROF ? resolve(process.env.BENCH_CONTROLLER_CPU_PROF) : null;
  const nodeFlags = [...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), ...(process.env.BENCH_CONTROLLER_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
  const logFile = join(dir, `controller-${port}.log`);
  // A file, not a pipe: the daemon's synchronous logging must never wait on the bench reading it.
  const out = openSync(logFile, 'a');
  const store = redisUrl ? ['--redis', redisUrl, '--redis-prefix', `bench-${port}:`] : ['--db', join(dir, `c-${port}.db`)];
  const argv = [process.execPath, ...nodeFlags, MAIN, 'controller', '--port', String(port), ...store, '--script-dir', join(dir, 'scripts'), ...args];
  const [cmd, cmdArgs] = withRaisedFdLimit(argv);
  const child = spawn(cmd, cmdArgs, { cwd: dir, env: tagEnv(tag), stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const alive = () => child.exitCode === null && child.signalCode === null;

  const handle = {
    pid: child.pid,
    port,
    logFile,
    log: () => readFileSync(logFile, 'utf8'),
    async close() {
      if (alive()) {
        child.kill('SIGTERM');
        try {
          await withTimeout(exited, 15_000, 'controller shutdown');
        } catch {
          child.kill('SIGKILL');
          await withTimeout(exited, 5000, 'controller SIGKILL').catch(() => {});
        }
      }
      if (profDir) console.error(`controller CPU profile in ${profDir}`);
    },
  };
  const probe = keepAliveClient(port);
  try {
    await waitUntil(
      async () => {
        if (!alive()) throw new Error(`controller exited; log:\n${handle.log().slice(-2000)}`);
        return (await probe.request('GET', '/api/health', undefined, { timeoutMs: 2000 })).status === 200;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: 'the controller to answer /api/health' },
    );
  } catch (err) {
    await handle.close();
    throw err;
  } finally {
    probe.destroy();
  }
  return handle;
}

/**
 * Runs a bench module in a child Node process with an IPC channel, its open-file limit raised to
 * the hard limit (through `sh -c 'ulimit ...; exec node ...'`, the channel survives the exec).
 * Returns {child, pid, send, next(type, timeoutMs), kill()}.
 */
export function forkBenchChild(modulePath, { tag, cwd }) {
  const [cmd, args] = withRaisedFdLimit([process.execPath, modulePath]);
  const child = spawn(cmd, args, { cwd, env: tagEnv(tag), stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const waiting = [];
  child.on('message', (msg) => {
    const i = waiting.findIndex((w) => w.type === msg.type);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(msg);
  });
  void exited.then(({ code, signal }) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`bench child ${modulePath} exited (${code ?? signal}) before answering ${w.type}`));
  });
  return {
    child,
    pid: child.pid,
    exited,
    send: (msg) => child.send(msg),
    /** The next message of `type`, within `timeoutMs`. */
    next(type, timeoutMs) {
      const p = new Promise((resolveMsg, reject) => waiting.push({ type, resolve: resolveMsg, reject }));
      return withTimeout(p, timeoutMs, `waiting for "${type}" from ${modulePath}`);
    },
    /** Asks it to stop (`{type:'stop'}` → 'stopped'), then SIGKILL whatever is left. */
    async stop(timeoutMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          child.send({ type: 'stop' });
          await withTimeout(exited, timeoutMs, `${modulePath} to stop`);
        } catch {
          child.kill('SIGKILL');
          await withTimeout(exited, 5000, `${modulePath} SIGKILL`).catch(() => {});
        }
      }
    },
  };
}
