/**
 * The node agent, assembled: history and message ids on disk, loggers, one client per
 * controller, the named processes (with their journal and exit reporters), the job manager, a
 * long-poll loop per `[channel]` controller, stats timers, then the jobs the agent owes itself —
 * long-running jobs from the history and the startup tasks.
 * `startAgent` is the programmatic API: tests and benchmarks run many agents in one process.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { job as jobSchema, TERMINAL_STATES, type Result } from '../protocol/job.js';
import { Errors } from '../shared/errors.js';
import type { Backoff } from './backoff.js';
import { JumpscriptCache } from './commands/jumpscripts.js';
import type { AgentConfig } from './config/types.js';
import { History } from './jobs/history.js';
import { takeOffers } from './jobs/intake.js';
import { JobManager } from './jobs/job-manager.js';
import { AcLogger } from './logging/ac-logger.js';
import { DbLogger } from './logging/db-logger.js';
import { consoleSink, LogRouter, type LogSink } from './logging/log-router.js';
import { openMessageIds } from './logging/message-ids.js';
import { startProcessApi } from './processes/process-api.js';
import { ProcSampler } from './stats/proc-sampler.js';
import { StatsAggregator } from './stats/statsd.js';
import { ControllerClient } from './transport/controller-client.js';
import { Delivery } from './transport/delivery.js';
import { Poller } from './transport/poller.js';
import { ResultQueue } from './transport/result-queue.js';

export interface AgentOptions {
  logger: Logger;
  /** After a `restart` job stopped the agent: exit for the supervisor to start it again. */
  onRestart?: () => void;
  /** SIGTERM → SIGKILL of a killed job's group (default 5 s). */
  killGraceMs?: number;
  /** Between restarts of a failed job with `max_restart` (default 1 s doubling to 60 s). */
  restartBackoff?: Backoff;
  /** Between failed polls of a controller (default 0.5 s doubling to 30 s). */
  reconnectBackoff?: Backoff;
  /** Each job's cpu and memory are sampled this often (default 2 s, as in agent2). */
  sampleIntervalMs?: number;
  /** How long a controller may hold a poll before answering 204 (default 60 s, as in agent2). */
  pollWaitMs?: number;
  /** Stopping waits this long for results and logs to reach the controllers (default 10 s). */
  stopDeadlineMs?: number;
}

export interface RunningAgent {
  /** Kills every job, sends what is pending and closes files; idempotent. */
  stop(): Promise<void>;
}

export function startAgent(config: AgentConfig, opts: AgentOptions): RunningAgent {
  const logger = opts.logger;
  // Everything that can refuse to start (a corrupt id counter, certificates) is read before the
  // first file is written, so a failed start leaves the disk as it was.
  const ids = openMessageIds(config.messageIdFile, undefined, logger);
  const node = { gid: config.gid, nid: config.nid };
  const clients = new Map(Object.values(config.controllers).map((c) => [c.key, new ControllerClient(c, node, opts.pollWaitMs)]));
  const client = (key: string) => clients.get(key)!;
  for (const c of Object.values(config.controllers)) {
    if (!c.url.startsWith('https:') && Object.keys(c.tls).length > 0) logger.warn({ controller: c.key, url: c.url }, '[security] is ignored for an http:// controller');
  }
  // The first write of all: a counter that cannot be written refuses the start, naming the file.
  ids.begin();
  for (const file of [config.messageIdFile, config.historyFile]) mkdirSync(path.dirname(file), { recursive: true });
  const history = new History(config.historyFile);
  if (history.skipped > 0) logger.warn({ file: config.historyFile, lines: history.skipped }, 'unreadable history lines skipped');

  const loggers = config.loggers.map((l): LogSink & { close?: () => unknown } => {
    if (l.type === 'DB') return new DbLogger(l, Date.now, logger);
    if (l.type === 'AC') return new AcLogger(l, (c, batch) => client(c).logs(batch), logger);
    return consoleSink(l.levels, logger);
  });
  const messages = loggers.find((l): l is DbLogger => l instanceof DbLogger) ?? null;
  const stats = new StatsAggregator();
  const sampler = new ProcSampler();
  const deliveryBackoff = { baseMs: 500, maxMs: 10_000, jitter: 0.3 };
  const delivery = new Delivery(logger, deliveryBackoff);
  /** A final result a controller answered for: the job is off the agent's books. */
  const settle = (results: readonly Result[]) => results.forEach((r) => TERMINAL_STATES.has(r.state) && history.markSettled(r.id));
  const resultQueues: Map<string, ResultQueue> = new Map(
    [...clients.keys()].map((key) => {
      // Results a controller never took go to the others that are polled: any that shares its store takes them.
      const others = config.channel.filter((k) => k !== key);
      const handOver = others.length ? (results: Result[]) => others.forEach((k) => results.forEach((r) => resultQueues.get(k)!.push(r, true))) : undefined;
      return [key, new ResultQueue({ controller: key, post: (batch) => client(key).results(batch), logger, backoff: deliveryBackoff, onAnswered: settle, ...(handOver ? { handOver } : {}) })];
    }),
  );
  const reconnectBackoff = opts.reconnectBackoff ?? { baseMs: 500, maxMs: 30_000, jitter: 0.5 };
  const killGraceMs = opts.killGraceMs ?? 5000;
  const processApi = startProcessApi({ stateDir: config.stateDir, clients, channel: config.channel, logger, killGraceMs, backoff: reconnectBackoff });
  let stopping: Promise<void> | null = null;

  const startupIds = new Set(config.startup.map((t) => t.id));
  const manager = new JobManager({
    node,
    maxJobs: config.maxJobs,
    logger,
    history,
    logs: new LogRouter(loggers, ids),
    stats,
    specs: { cmds: config.cmds, scripts: new JumpscriptCache(path.join(config.stateDir, 'jumpscript-cache'), fetchScript) },
    builtins: { messages, sampler, processes: processApi.processes, restart: () => void stop().then(opts.onRestart) },
    report: (result, origin) => {
      // Startup tasks are the agent's own: no controller dispatched them, so none would accept
      // their results. They stay queryable here by job id (get_msgs, the DB logger).
      if (origin === null && startupIds.has(result.id)) {
        logger.info({ job: result.id, state: result.state }, 'startup task finished');
        return;
      }
      for (const key of origin && clients.has(origin) ? [origin] : config.channel) resultQueues.get(key)!.push(result);
    },
    killGraceMs,
    restartBackoff: opts.restartBackoff ?? { baseMs: 1000, maxMs: 60_000, jitter: 0.2 },
  });

  /** From the controller the job came from, else from each polled controller in turn. */
  async function fetchScript(hash: string, origin: string | null): Promise<string> {
    let last: unknown = Errors.NOT_FOUND(`jumpscript ${hash}`);
    for (const key of origin && clients.has(origin) ? [origin] : config.channel) {
      try {
        return await client(key).script(hash);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  // The ids of the agent's own tasks, for whoever reads the event: no controller dispatched them,
  // so their output is asked of the agent (get_msgs), not of a controller.
  const announcement = (name: string) => ({
    name,
    gid: config.gid,
    nid: config.nid,
    roles: config.roles,
    hostname: os.hostname(),
    pid: process.pid,
    startup_tasks: config.startup.map((t) => t.id),
    ...processApi.facts(),
  });
  const pollers = config.channel.map(
    (key) =>
      new Poller({
        client: client(key),
        roles: config.roles,
        announcement,
        max: () => config.maxJobs - manager.active(),
        onSlotFreed: (listener) => manager.onSlotFreed(listener),
        onOffers: (raws, from) => takeOffers(raws, from, { history, manager, logger }),
        logger,
        backoff: reconnectBackoff,
      }),
  );
  for (const p of pollers) p.start();

  for (const { job, origin } of history.longRunning()) manager.submit(job, origin, false);
  // Their controllers still hold them RUNNING, and would until this node went silent for the TTL.
  for (const lost of history.lost()) {
    const job = jobSchema.parse({ id: lost.id, cmd: lost.cmd || 'unknown', ...node });
    manager.refuse(job, lost.origin, 'the agent stopped (killed or crashed) while this job ran; how it ended is unknown');
  }
  for (const task of config.startup) manager.submit(jobSchema.parse({ id: task.id, cmd: task.cmd, args: task.args, ...node }), null, false);

  const sampling = setInterval(() => {
    const running = manager.running();
    const usage = sampler.sample(running.map((j) => j.pid));
    for (const j of running) {
      const u = usage.get(j.pid);
      if (!u) continue;
      stats.gauge(`job.${j.id}.cpu`, u.cpuPercent);
      stats.gauge(`job.${j.id}.rss`, u.rssBytes);
    }
  }, opts.sampleIntervalMs ?? 2000);
  const flushing = setInterval(flushStats, config.stats.intervalMs);

  function flushStats(): void {
    const series = stats.flush();
    if (series.length === 0) return;
    const batch = { timestamp: Date.now(), series };
    for (const key of config.stats.controllers) delivery.send({ stats: batch.timestamp, controller: key }, () => client(key).stats(batch));
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      clearInterval(sampling);
      clearInterval(flushing);
      await Promise.all(pollers.map((p) => p.stop()));
      await manager.stop();
      flushStats();
      const deadline = opts.stopDeadlineMs ?? 10_000;
      await Promise.all([delivery.drain(deadline), ...[...resultQueues.values()].map((q) => q.drain(deadline)), processApi.stop(deadline), ...loggers.map((l) => (l instanceof AcLogger ? withDeadline(l.close(), deadline) : l.close?.()))]);
      history.close();
      for (const c of clients.values()) c.close();
      logger.info({ gid: config.gid, nid: config.nid }, 'agent stopped');
    })();
    return stopping;
  }

  logger.info({ gid: config.gid, nid: config.nid, roles: config.roles, controllers: config.channel, maxJobs: config.maxJobs }, 'agent started');
  return { stop };
}

function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}
