/**
 * Stats batches on their way to a controller (results go through result-queue.ts, which
 * coalesces them): each is retried with backoff until the controller takes it or the attempts
 * run out (then it is logged as lost). A controller that answers 4xx has read it and refused
 * it; sending it again would not change its mind. Sends in flight are tracked so that stopping
 * the agent can wait for them, up to a deadline.
 */
import type { Logger } from 'pino';
import { backoffDelay, sleep, type Backoff } from '../backoff.js';
import { answeredStatus } from './controller-client.js';

export class Delivery {
  private readonly pending = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly logger: Logger,
    private readonly backoff: Backoff,
    private readonly attempts = 6,
  ) {}

  /** Starts sending; `what` names it in the log. Never rejects. */
  send(what: Record<string, unknown>, attempt: () => Promise<void>): void {
    const sending = this.retry(what, attempt).finally(() => this.pending.delete(sending));
    this.pending.add(sending);
  }

  /** Waits for every send in flight, at most `deadlineMs`; retry waits are cut short. */
  async drain(deadlineMs: number): Promise<void> {
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    await Promise.race([Promise.all(this.pending), deadline]);
    clearTimeout(timer);
  }

  private async retry(what: Record<string, unknown>, attempt: () => Promise<void>): Promise<void> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const status = answeredStatus(err);
        if (status !== null && status < 500) {
          this.logger.warn({ ...what, err: (err as Error).message }, 'the controller refused it');
          return;
        }
        const stopping = this.abort.signal.aborted;
        if (n >= this.attempts || stopping) {
          this.logger.error({ ...what, err: (err as Error).message, attempts: n }, 'could not deliver to the controller; giving up');
          return;
        }
        await sleep(backoffDelay(this.backoff, n), this.abort.signal);
      }
    }
  }
}
