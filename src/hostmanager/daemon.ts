/**
 * `cox hostmanager`: loads the SCF, serves HTTP, starts the `manager` process, and stops
 * gracefully on SIGTERM/SIGINT (every child down within its grace time, then exit 0).
 */
import type { Command } from 'commander';
import pino, { type Logger } from 'pino';
import { Errors } from '../shared/errors.js';
import type { SiteConfig } from '../site-config/types.js';
import { Notifier } from '../systemd/notify.js';
import { ConfigState } from './config-state.js';
import { HostManager } from './host-manager.js';
import { buildHostManagerApp } from './http/app.js';
import { childLogFiles } from './logs/child-logs.js';
import { LogFiles } from './logs/log-files.js';
import { isLoopback, mergeScfArguments, type HostManagerOptions } from './options.js';

export async function runHostManagerDaemon(cmd: Command): Promise<void> {
  const first = cmd.opts<HostManagerOptions>();
  const config = new ConfigState({
    file: first.siteFile,
    ...(first.siteHost ? { host: first.siteHost } : {}),
    check: (loaded) => void daemonOptions(cmd, loaded),
  });
  const { config: site, error } = config.reload();
  // At boot there is no last good config to fall back on; systemd's Restart= retries.
  if (site === null) throw Errors.CONFIG_INVALID(error ?? 'no site config');
  const opts = daemonOptions(cmd, site);
  const logger = pino({ level: opts.quiet ? 'warn' : opts.logLevel, base: { host: site.host } });
  for (const w of site.warnings) logger.warn(w.message);
  // Taken out of process.env before any child is spawned with a copy of it.
  const notifier = Notifier.fromEnv(process.env, logger);
  const logs = new LogFiles({ maxBytes: opts.logMaxSize, keep: opts.logKeep, logger: logger.child({ component: 'logs' }) });

  let stopping: Promise<void> | null = null;
  const hm = new HostManager({
    config,
    logger,
    stateDir: opts.stateDir,
    dockerServicePrefix: opts.dockerServicePrefix,
    dockerCompose: opts.dockerCompose,
    dockerComposeBin: opts.dockerComposeBin,
    // dockerode takes a sixth of a second to load; hosts without compose files skip it.
    ...(opts.dockerCompose.length ? { dockerClient: new (await import('dockerode')).default() } : {}),
    ...(opts.initialState ? { initialState: opts.initialState } : {}),
    onDie: () => void shutdown('die'),
  });
  const app = await buildHostManagerApp({ hm, logger, logs, ...(opts.token ? { token: opts.token } : {}) });
  await app.listen({ host: opts.address, port: opts.port });
  logger.info({ url: `http://${opts.address}:${(app.server.address() as { port: number }).port}`, instance_id: hm.instanceId, site_file: site.file }, 'host manager listening');
  // One attempt to reach the engine first, so running containers are adopted rather than shown `?`.
  await hm.docker?.start();
  hm.start();
  hm.watchConfig(site.file);
  logs.startChecking(() => childLogFiles(hm));

  function shutdown(why: string): Promise<void> {
    if (!stopping) void notifier.notify('STOPPING=1', 'STATUS=bringing every child down');
    stopping ??= stopAll(why, hm, app.close.bind(app), logger);
    return stopping;
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void shutdown(signal));
  // A daemon's SIGHUP asks for its config to be read again; left to Node's default it would end
  // the host manager, and with it the launcher, without a word (a closed terminal sends it too).
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reading the site config again');
    void hm.reloadConfig();
  });

  // The manager op begins a tick after start() and, before its first await, applies the SCF; the
  // launcher then reports each child's process (or its failure) a little later.
  await hm.supervisor.waitFor(() => hm.registry.session('manager')?.status === 'running' && !hm.supervisor.launching, 30_000);
  const n = hm.supervisor.size;
  if (!stopping) void notifier.notify('READY=1', `STATUS=supervising ${n} ${n === 1 ? 'child' : 'children'}`);
}

/**
 * The command line over the HostManager entry's SCF `arguments`. Throws CONFIG_INVALID for options
 * the daemon will not run with; every SCF edit is checked with it too (see ConfigState), so under
 * systemd an edit cannot turn the next restart into a restart loop.
 */
function daemonOptions(cmd: Command, site: SiteConfig): HostManagerOptions {
  const cli = cmd.opts<HostManagerOptions>();
  const where = `${cli.siteFile}:${site.hostManager?.line ?? 1}`;
  const opts = mergeScfArguments(cmd, site.hostManager?.arguments ?? [], where);
  if (!isLoopback(opts.address) && !opts.token) {
    // When the command line alone would have been refused, the SCF is not to blame.
    const blame = isLoopback(cli.address) || cli.token ? `${where}: arguments: ` : '';
    throw Errors.CONFIG_INVALID(`${blame}--address ${opts.address} is not loopback: set --token (or COX_TOKEN) so the API is not open to the network`);
  }
  return opts;
}

async function stopAll(why: string, hm: HostManager, closeHttp: () => Promise<void>, logger: Logger): Promise<void> {
  logger.info({ why }, 'shutting down: bringing every child down');
  // Past what hm.stop() allows itself (the longest stop-timeout and margins), something hangs.
  const forced = setTimeout(() => {
    logger.error('graceful shutdown deadline passed; exiting');
    process.exit(1);
  }, hm.stopDeadlineMs + 15_000);
  forced.unref();
  await hm.stop();
  await closeHttp();
  logger.info('stopped');
  process.exit(0);
}
