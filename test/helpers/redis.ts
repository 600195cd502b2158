/**
 * A real redis-server (Debian's) for the tests: on a unix socket in a temporary directory, so
 * suites running side by side never share a port, and with no persistence (the tests restart
 * controllers, never Redis).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from './wait.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  /** `unix:///…/redis.sock`, as `cox controller --redis` takes it. */
  url: string;
  socket: string;
  /** `rediss://[:password@]127.0.0.1:<port>`, when started with TLS. */
  tlsUrl?: string;
  proc: ChildProcess;
  stop: () => Promise<void>;
}

/**
 * With `tls`, it also serves TLS on a loopback port (the `tlsUrl`), with that certificate; with
 * `password`, every client must give it.
 */
export async function startRedis(opts: { tls?: { cert: string; key: string; ca: string }; password?: string } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cox-redis-'));
  const socket = join(dir, 'redis.sock');
  const tlsPort = opts.tls ? await freePort() : null;
  const tlsArgs = opts.tls ? ['--tls-port', String(tlsPort), '--tls-cert-file', opts.tls.cert, '--tls-key-file', opts.tls.key, '--tls-ca-cert-file', opts.tls.ca, '--tls-auth-clients', 'no'] : [];
  const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir, ...tlsArgs];
  const proc = spawn('redis-server', [...args, ...(opts.password ? ['--requirepass', opts.password] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    ...(tlsPort ? { tlsUrl: `rediss://${opts.password ? `:${opts.password}@` : ''}127.0.0.1:${tlsPort}` } : {}),
    socket,
    proc,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
