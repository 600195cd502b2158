// BullMQ on a local Redis as the controller bench's peer. BullMQ is installed on demand into
// scripts/bench/.peers (not a project dependency); Redis is the distribution's redis-server,
// started by the bench on a free loopback port in the run's temp dir with persistence off — never
// the system service.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tagEnv } from './procfs.mjs';
import { freePort, run, waitUntil, withTimeout } from './util.mjs';

const PEERS = fileURLToPath(new URL('../.peers/', import.meta.url));
const BULLMQ_PKG = join(PEERS, 'node_modules/bullmq/package.json');

export async function ensureBullmq() {
  if (existsSync(BULLMQ_PKG)) return;
  console.error(`BullMQ missing: npm install --prefix ${PEERS} bullmq@5`);
  mkdirSync(PEERS, { recursive: true });
  const r = await run('npm', ['install', '--prefix', PEERS, '--no-audit', '--no-fund', 'bullmq@5'], { timeoutMs: 300_000 });
  if (!existsSync(BULLMQ_PKG)) throw new Error(`cannot install bullmq: ${(r.stderr || r.stdout).slice(-500)}`);
}

/** The `bullmq` module from scripts/bench/.peers. */
export function loadBullmq() {
  return createRequire(join(PEERS, 'package.json'))('bullmq');
}

export function bullmqVersion() {
  try {
    return JSON.parse(readFileSync(BULLMQ_PKG, 'utf8')).version;
  } catch {
    return null;
  }
}

export async function ensureRedis() {
  const r = await run('redis-server', ['--version'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error('redis-server not found: apt-get install -y redis-server');
  return /v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim();
}

/** One PING over a raw socket: true on +PONG. */
function ping(port) {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('data', (d) => {
      text += d;
      if (text.includes('\r\n')) done(text.startsWith('+PONG'));
    });
    sock.write('PING\r\n');
  });
}

/** `redis-server` on a free loopback port, no persistence; returns {pid, port, close()}. */
export async function startRedis({ dir, tag }) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, `redis-${port}.log`), '--maxmemory-policy', 'noeviction'];
  const child = spawn('redis-server', args, { cwd: dir, env: tagEnv(tag), stdio: 'ignore', detached: true });
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const handle = {
    pid: child.pid,
    port,
    connection: { host: '127.0.0.1', port },
    async close() {
      if (!alive()) return;
      child.kill('SIGTERM');
      try {
        await withTimeout(exited, 10_000, 'redis shutdown');
      } catch {
        child.kill('SIGKILL');
        await withTimeout(exited, 5000, 'redis SIGKILL').catch(() => {});
      }
    },
  };
  try {
    await waitUntil(
      async () => {
        if (!alive()) throw new Error('redis-server exited');
        return ping(port);
      },
      { timeoutMs: 15_000, intervalMs: 50, what: `redis-server on port ${port}` },
    );
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}
