/**
 * Results on their way to one controller, coalesced: a result is posted at once when no post is
 * in flight, and the results that arrive meanwhile go together in the next post, so a busy agent
 * sends one request per batch instead of one per job, and an idle one adds no delay.
 *
 * A post that gets no answer (or a 5xx, or an answer that does not match the items) is retried
 * with backoff, its results at the head of the queue so they keep their order; each result gives
 * up after `attempts` tries. What gives up is handed over (`handOver`) to the agent's other
 * controllers: those that share the dead one's store (Redis) take it, the others refuse it. A
 * result that was handed over, or has nowhere to go, is logged as lost; the controller's own TTL
 * then settles the job.
 * Storing a result twice changes nothing on the controller, so a retry after a lost reply is
 * safe. A result the controller refuses (4xx, or a refused item) has been read and would be
 * refused again: it is logged, not retried.
 */
import type { Logger } from 'pino';
import { MAX_BATCH, type BatchOutcome, type Result } from '../../protocol/job.js';
import { backoffDelay, sleep, type Backoff } from '../backoff.js';
import { answeredStatus } from './controller-client.js';

interface Queued {
  result: Result;
  /** Posts tried so far. */
  tries: number;
  /** Handed over by another controller's queue: not handed on again. */
  handedOver: boolean;
}

export interface ResultQueueOptions {
  /** Names the controller in the log. */
  controller: string;
  post: (results: Result[]) => Promise<BatchOutcome[]>;
  logger: Logger;
  backoff: Backoff;
  attempts?: number;
  maxBatch?: number;
  /** Takes the results this queue gave up on (see above). */
  handOver?: (results: Result[]) => void;
  /** Told of each result a controller answered for, taken or refused: nothing is owed for it. */
  onAnswered?: (results: readonly Result[]) => void;
}

export class ResultQueue {
  private readonly queue: Queued[] = [];
  private readonly abort = new AbortController();
  private flushing: Promise<void> | null = null;

  constructor(private readonly o: ResultQueueOptions) {}

  push(result: Result, handedOver = false): void {
    this.queue.push({ result, tries: 0, handedOver });
    this.flushing ??= this.flush().finally(() => (this.flushing = null));
  }

  /** Waits until every queued result is delivered or given up, at most `deadlineMs`; retry waits are cut short. */
  async drain(deadlineMs: number): Promise<void> {
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    await Promise.race([this.flushing, deadline]);
    clearTimeout(timer);
  }

  private async flush(): Promise<void> {
    const { logger, controller } = this.o;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.o.maxBatch ?? MAX_BATCH);
      let outcomes: BatchOutcome[];
      try {
        outcomes = await this.o.post(batch.map((q) => q.result));
      } catch (err) {
        const status = answeredStatus(err);
        const facts = { controller, jobs: batch.map((q) => q.result.id), err: (err as Error).message };
        if (status !== null && status < 500) {
          logger.warn(facts, 'the controller refused the results');
          this.o.onAnswered?.(batch.map((q) => q.result));
          continue;
        }
        await this.retryLater(batch, facts);
        continue;
      }
      for (const o of outcomes) if (!o.ok) logger.warn({ controller, job: o.id, code: o.code, err: o.message }, 'the controller refused the result');
      this.o.onAnswered?.(batch.map((q) => q.result));
    }
  }

  /** Puts the batch back at the head, less what ran out of attempts, and waits out the backoff. */
  private async retryLater(batch: Queued[], facts: Record<string, unknown>): Promise<void> {
    const attempts = this.o.attempts ?? 6;
    const stopping = this.abort.signal.aborted;
    for (const q of batch) q.tries++;
    const done = batch.filter((q) => stopping || q.tries >= attempts);
    const passed = this.o.handOver && !stopping ? done.filter((q) => !q.handedOver) : [];
    const lost = done.filter((q) => !passed.includes(q));
    if (passed.length > 0) {
      this.o.logger.warn({ ...facts, jobs: passed.map((q) => q.result.id) }, 'could not deliver the results to the controller; handing them to the other controllers');
      this.o.handOver!(passed.map((q) => q.result));
    }
    if (lost.length > 0) this.o.logger.error({ ...facts, jobs: lost.map((q) => q.result.id) }, 'could not deliver the results to the controller; giving up');
    const again = batch.filter((q) => !done.includes(q));
    if (again.length === 0) return;
    this.queue.unshift(...again);
    await sleep(backoffDelay(this.o.backoff, Math.max(...again.map((q) => q.tries))), this.abort.signal);
  }
}
