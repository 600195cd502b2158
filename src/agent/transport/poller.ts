/**
 * The long-poll loop for one controller: announce the agent (`startup` event), then poll for jobs
 * for as long as the agent runs. Any failure — controller down, refused, garbage — waits with
 * bounded exponential backoff and jitter, then starts again, announcing the agent again first
 * (`reconnect`): while it could not be reached the controller may have restarted, or stored an
 * acknowledgement whose reply never came back, so it is told afresh what the agent holds. Only
 * the first failure of a streak is a warning, so a controller that stays down for an hour does
 * not flood the log.
 */
import type { Logger } from 'pino';
import { MAX_BATCH, type AgentEvent } from '../../protocol/job.js';
import { backoffDelay, sleep, type Backoff } from '../backoff.js';
import type { ControllerClient } from './controller-client.js';

export interface PollerOptions {
  client: ControllerClient;
  roles: readonly string[];
  /** What the agent says of itself, as it is at the moment of saying it. */
  announcement: (name: 'startup' | 'reconnect') => AgentEvent;
  /** The agent's free job slots: how many offers to ask for. At 0 or below it still polls, for urgent jobs only. */
  max: () => number;
  /** Calls its listener when a job ends and frees a slot; answers the unsubscribe. */
  onSlotFreed: (listener: () => void) => () => void;
  /** Handles the offers of one poll; the next poll starts when it resolves (after the ack, not the run). */
  onOffers: (raw: unknown[], client: ControllerClient) => Promise<void>;
  logger: Logger;
  backoff: Backoff;
}

export class Poller {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly opts: PollerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the poll in flight and the loop; idempotent. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { client, logger } = this.opts;
    const signal = this.abort.signal;
    let announced = false;
    let everAnnounced = false;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (!announced) {
          const name = everAnnounced ? 'reconnect' : 'startup';
          await client.event(this.opts.announcement(name));
          announced = everAnnounced = true;
          logger.info({ controller: client.key, transport: client.transport, event: name }, 'announced to the controller');
        }
        // Past MAX_BATCH the controller would refuse the poll; a larger max_jobs fills up over several.
        const max = Math.min(MAX_BATCH, Math.max(0, this.opts.max()));
        const offers = max > 0 ? await client.poll(this.opts.roles, max, signal) : await this.pollWhileFull(signal);
        if (failures > 0) logger.info({ controller: client.key, after: failures }, 'controller reachable again');
        failures = 0;
        if (offers.length > 0) await this.opts.onOffers(offers, client);
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        announced = false;
        const delayMs = backoffDelay(this.opts.backoff, failures);
        const facts = { controller: client.key, err: (err as Error).message, retryInMs: delayMs };
        if (failures === 1) logger.warn(facts, 'controller poll failed');
        else logger.debug(facts, 'controller poll failed again');
        await sleep(delayMs, signal);
      }
    }
  }

  /**
   * A poll asking for no job, only urgent ones (kills), while every slot is taken: it keeps the
   * node connected. The controller would hold it to its timeout, so it is given up as soon as a
   * slot frees, and the next poll asks for work again. A kill offered in that very moment is lost
   * in transit, and offered again once its lease expires.
   */
  private async pollWhileFull(stop: AbortSignal): Promise<unknown[]> {
    const freed = new AbortController();
    const unsubscribe = this.opts.onSlotFreed(() => this.opts.max() > 0 && freed.abort());
    try {
      return await this.opts.client.poll(this.opts.roles, 0, AbortSignal.any([stop, freed.signal]));
    } catch (err) {
      if (freed.signal.aborted && !stop.aborted) return [];
      throw err;
    } finally {
      unsubscribe();
    }
  }
}
