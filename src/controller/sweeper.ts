/**
 * The controller's periodic work: keep polling nodes alive, drop nodes gone silent (their
 * running jobs end ERROR), take back offers nobody acknowledged, and prune what is past
 * retention. Each tick does a bounded amount, so a backlog is worked off over several ticks
 * instead of stalling requests.
 */
import type { Logger } from 'pino';
import type { Controller } from './controller.js';
import { MAX_OFFERS } from './dispatch/leases.js';
import { nodeName } from './store/job-store.js';

export interface SweepOptions {
  ttlMs: number;
  retentionMs: number;
  /** Sessions are not expired before this: after a restart, agents get one TTL to come back. */
  graceUntil: number;
  /** Rows per kind and tick. */
  batch?: number;
}

export interface SweepReport {
  lost: number;
  reoffered: number;
  unacknowledged: number;
  pruned: number;
}

export async function sweep(controller: Controller, opts: SweepOptions, log: Logger): Promise<SweepReport> {
  const { store } = controller;
  const now = controller.now();
  const batch = opts.batch ?? 1000;
  await store.keepAlive(controller.polls.nodes(), now);
  const lost = now >= opts.graceUntil ? await store.expireSessions(now - opts.ttlMs, now, batch) : [];
  for (const node of lost) log.warn({ node: nodeName(node) }, 'agent lost: not seen within the TTL; its running jobs end ERROR');
  const leases = await store.expireLeases(now, MAX_OFFERS, batch);
  for (const d of leases.reoffered) log.info({ id: d.id, node: nodeName(d) }, 'offer not acknowledged in time: offered again');
  for (const d of leases.failed) log.warn({ id: d.id, node: nodeName(d) }, 'offer never acknowledged: job ends ERROR');
  const pruned = await store.prune(now - opts.retentionMs, batch);
  return { lost: lost.length, reoffered: leases.reoffered.length, unacknowledged: leases.failed.length, pruned };
}

/** Runs `sweep` every `intervalMs` until stopped; a tick still running makes the next one skip. */
export function startSweeper(controller: Controller, opts: SweepOptions & { intervalMs: number }, log: Logger): { stop(): Promise<void> } {
  let busy: Promise<void> | null = null;
  const timer = setInterval(() => {
    busy ??= sweep(controller, opts, log)
      .then(() => undefined, (err: unknown) => log.error({ err }, 'sweep failed'))
      .finally(() => (busy = null));
  }, opts.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await busy;
    },
  };
}
