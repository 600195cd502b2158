/**
 * A real redis-server (Debian's) for the tests: on a unix socket in a temporary directory, so
 * suites running side by side never share a port, and with no persistence (the tests restart
 * controllers, never Redis).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from './wait.js';

export interface RedisServer {
  /** `unix:///…/redis.sock`, as `cox controller --redis` takes it. */
  url: string;
  socket: string;
  proc: ChildProcess;
  stop: () => Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cox-redis-'));
  const socket = join(dir, 'redis.sock');
  const proc = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await waitUntil(() => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}:\n${out}`);
      return existsSync(socket);
    }, 10_000, 'redis-server socket');
  } catch (err) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `unix://${socket}`,
    socket,
    proc,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
