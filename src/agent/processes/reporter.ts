/**
 * Sends the journal's finished processes to one controller until it acknowledges them, then has
 * the journal forget them. Unlike job results it never gives up: a process's end is owed to the
 * controller exactly once, so it is retried (with backoff) for as long as the agent runs, and a
 * restarted agent picks up where this one stopped. Ends that come while a send is in flight go
 * out together with the next one, so a burst of exits costs a few requests, not one each.
 *
 * An end its controller has not taken after `attempts` tries (~16 s, as a job result) is offered
 * to the agent's other channel controllers too, once each: one that shares the silent one's store
 * (Redis) stores it, and its clients get it at once. They acknowledge it whether they stored it
 * or never heard of the process (a controller with its own store acknowledges unknown ids), so
 * their word cannot tell the agent the end is safe: it stays in the journal, still retried, until
 * its own controller acknowledges it. The store keeps an end once and hands it out once, however
 * many controllers it came through.
 */
import type { Logger } from 'pino';
import type { ProcessExit } from '../../protocol/process.js';
import { backoffDelay, sleep, type Backoff } from '../backoff.js';
import type { ExitRecord, ProcessJournal } from './journal.js';

/** Per request; a longer backlog takes several. */
const BATCH = 1000;
/** Tries before an end goes to the other controllers too: as many as a job result gets. */
const ATTEMPTS = 6;

export interface ReporterOptions {
  /** The controller's key, as the journal's `origin`. */
  key: string;
  journal: ProcessJournal;
  /** Posts the ends; answers the ids the controller stored (or will never need). */
  send: (exits: ProcessExit[], signal: AbortSignal) => Promise<string[]>;
  logger: Logger;
  backoff: Backoff;
  attempts?: number;
  /** Takes the ids of ends this controller did not take after `attempts` tries (see above). */
  handOver?: (ids: string[]) => void;
}

export class ExitReporter {
  readonly #abort = new AbortController();
  #loop: Promise<void> | null = null;
  /** Sends of this loop that failed in a row. */
  #failures = 0;
  /** This controller's ends already offered to the others. */
  readonly #handedOver = new Set<string>();
  /** Other controllers' ends to offer this one, until it answers. */
  readonly #offered = new Set<string>();

  constructor(private readonly o: ReporterOptions) {}

  /** There may be something to send. */
  kick(): void {
    if (this.#loop || this.#abort.signal.aborted) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = null;
      // An end journaled after the last look, while the loop was finishing.
      if (this.#pending().length > 0) this.kick();
    });
  }

  /** Ends another controller did not take: this one is asked once to take them too. */
  offer(ids: readonly string[]): void {
    for (const id of ids) this.#offered.add(id);
    this.kick();
  }

  /** Tries what is pending for at most `deadlineMs`, then stops; the rest stays in the journal. */
  async stop(deadlineMs: number): Promise<void> {
    this.kick();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#loop, new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    clearTimeout(timer);
    this.#abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    // A loop ends with nothing left to send; whatever failed before is no news about the next one.
    this.#failures = 0;
    for (let pending = this.#pending(); pending.length > 0 && !this.#abort.signal.aborted; pending = this.#pending()) {
      const batch = pending.slice(0, BATCH);
      try {
        this.#answered(batch, await this.o.send(batch.map(({ origin: _origin, ...exit }) => exit), this.#abort.signal));
      } catch (err) {
        await this.#failed(batch, pending.length, err as Error);
      }
    }
  }

  /** This controller's ends and those offered to it, oldest first; forgets what the journal forgot. */
  #pending(): ExitRecord[] {
    const owed = this.o.journal.unreported();
    const ids = new Set(owed.map((e) => e.id));
    for (const set of [this.#handedOver, this.#offered]) for (const id of set) if (!ids.has(id)) set.delete(id);
    return owed.filter((e) => e.origin === this.o.key || this.#offered.has(e.id));
  }

  #answered(batch: ExitRecord[], acked: string[]): void {
    const { journal, key, logger } = this.o;
    const took = new Set(acked);
    const own = batch.filter((e) => e.origin === key);
    const offered = batch.filter((e) => e.origin !== key);
    if (offered.length > 0) this.#settleOffered(offered, took);
    const done = own.filter((e) => took.has(e.id)).map((e) => e.id);
    journal.acked(done);
    // Sending the same batch again at once would only get the same answer.
    if (done.length === 0 && offered.length === 0) throw new Error('the controller acknowledged none of them');
    if (this.#failures > 0) logger.info({ controller: key, after: this.#failures }, 'process ends reported again');
    this.#failures = 0;
  }

  /** Answered either way: an end is offered to each other controller once. */
  #settleOffered(offered: ExitRecord[], took: Set<string>): void {
    for (const e of offered) this.#offered.delete(e.id);
    const facts = (ends: ExitRecord[]) => ({ controller: this.o.key, processes: ends.map((e) => ({ name: e.name, id: e.id, owedTo: e.origin })) });
    const [taken, refused] = [offered.filter((e) => took.has(e.id)), offered.filter((e) => !took.has(e.id))];
    if (taken.length > 0) this.o.logger.info(facts(taken), 'another controller acknowledged process ends; they are kept until their own controller has them too');
    if (refused.length > 0) this.o.logger.info(facts(refused), 'another controller did not take process ends; they stay owed to their own controller');
  }

  async #failed(batch: ExitRecord[], pending: number, err: Error): Promise<void> {
    const { key, logger } = this.o;
    this.#failures++;
    const delayMs = backoffDelay(this.o.backoff, this.#failures);
    const facts = { controller: key, pending, err: err.message, retryInMs: delayMs };
    if (this.#failures === 1) logger.warn(facts, 'could not report process ends; keeping them and retrying');
    else logger.debug(facts, 'could not report process ends again');
    if (this.#failures >= (this.o.attempts ?? ATTEMPTS)) this.#handOver(batch);
    await sleep(delayMs, this.#abort.signal);
  }

  #handOver(batch: ExitRecord[]): void {
    const ends = batch.filter((e) => e.origin === this.o.key && !this.#handedOver.has(e.id));
    if (!this.o.handOver || ends.length === 0 || this.#abort.signal.aborted) return;
    for (const e of ends) this.#handedOver.add(e.id);
    this.o.logger.warn({ controller: this.o.key, processes: ends.map((e) => e.name) }, 'the controller did not take process ends; offering them to the other controllers too');
    this.o.handOver(ends.map((e) => e.id));
  }
}

export interface ReportersOptions extends Omit<ReporterOptions, 'key' | 'send' | 'handOver'> {
  /** Every configured controller's key, and how to send it ends. */
  sends: ReadonlyMap<string, ReporterOptions['send']>;
  /** The polled controllers: the ones a silent controller's ends are offered to. */
  channel: readonly string[];
}

/** One reporter per controller, each offering what its controller does not take to the rest of the channel. */
export function exitReporters(o: ReportersOptions): Map<string, ExitReporter> {
  const { sends, channel, ...common } = o;
  const reporters = new Map<string, ExitReporter>();
  for (const [key, send] of sends) {
    const others = channel.filter((k) => k !== key && sends.has(k));
    const handOver = others.length > 0 ? (ids: string[]) => others.forEach((k) => reporters.get(k)!.offer(ids)) : undefined;
    reporters.set(key, new ExitReporter({ ...common, key, send, ...(handOver ? { handOver } : {}) }));
  }
  return reporters;
}
