/**
 * `cox controller`: opens the store, serves agents and clients, sweeps leases, sessions and
 * retention, and on SIGTERM/SIGINT releases every pending poll and exits 0.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import pino from 'pino';
import { Notifier } from '../systemd/notify.js';
import { Controller } from './controller.js';
import { buildControllerApp, type TlsOptions } from './http/app.js';
import { checkControllerOptions, DEFAULT_CONTROLLER_DB, type ControllerDaemonOptions } from './options.js';
import { openStore } from './store/open-store.js';
import { startSweeper } from './sweeper.js';

/** A hung close must not keep a stopping controller alive. */
const SHUTDOWN_DEADLINE_MS = 10_000;

export async function runControllerDaemon(cmd: Command): Promise<void> {
  const opts = cmd.opts<ControllerDaemonOptions>();
  checkControllerOptions(opts);
  const logger = pino({ level: opts.logLevel, base: { component: 'controller' } });
  const notifier = Notifier.fromEnv(process.env, logger);
  const { store, where } = await openStore(opts.redis ? { redis: opts.redis, prefix: opts.redisPrefix } : { db: opts.db ?? DEFAULT_CONTROLLER_DB });
  const controller = new Controller({ store, logger, pollTimeoutMs: opts.pollTimeout, ttlMs: opts.ttl, ackTimeoutMs: opts.ackTimeout });
  const tls = tlsOptions(opts);
  const app = await buildControllerApp({ controller, logger, scriptDir: opts.scriptDir, ...(opts.token ? { token: opts.token } : {}), ...(tls ? { tls } : {}) });
  await app.listen({ host: opts.address, port: opts.port });
  // Sweeping often enough that a lease or a TTL is overrun by at most a quarter of itself.
  const intervalMs = Math.min(1000, opts.ttl / 4, opts.ackTimeout / 4);
  const sweeper = startSweeper(controller, { ttlMs: opts.ttl, retentionMs: opts.retention, graceUntil: Date.now() + opts.ttl, intervalMs }, logger);
  const port = (app.server.address() as { port: number }).port;
  logger.info({ url: `${tls ? 'https' : 'http'}://${opts.address}:${port}`, ...where, script_dir: opts.scriptDir }, 'controller listening');
  // Its unit is Type=notify: systemd counts it started only now, with the store open and the port bound.
  void notifier.notify('READY=1', 'STATUS=serving agents and clients');

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'shutting down');
    await notifier.notify('STOPPING=1', 'STATUS=releasing polls and closing the store');
    setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    await sweeper.stop();
    await app.close();
    await store.close();
    logger.info('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void shutdown(signal));
}

function tlsOptions(opts: ControllerDaemonOptions): TlsOptions | undefined {
  if (!opts.tlsCert || !opts.tlsKey) return undefined;
  return {
    cert: readFileSync(opts.tlsCert),
    key: readFileSync(opts.tlsKey),
    ...(opts.tlsCa ? { ca: readFileSync(opts.tlsCa) } : {}),
    requireClientCert: opts.requireClientCert,
  };
}
