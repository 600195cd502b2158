/**
 * Sends the journal's finished processes to one controller until it acknowledges them, then has
 * the journal forget them. Unlike job results it never gives up: a process's end is owed to the
 * controller exactly once, so it is retried (with backoff) for as long as the agent runs, and a
 * restarted agent picks up where this one stopped. Ends that come while a send is in flight go
 * out together with the next one, so a burst of exits costs a few requests, not one each.
 */
import type { Logger } from 'pino';
import type { ProcessExit } from '../../protocol/process.js';
import { backoffDelay, sleep, type Backoff } from '../backoff.js';
import type { ProcessJournal } from './journal.js';

/** Per request; a longer backlog takes several. */
const BATCH = 1000;

export interface ReporterOptions {
  /** The controller's key, as the journal's `origin`. */
  key: string;
  journal: ProcessJournal;
  /** Posts the ends; answers the ids the controller stored (or will never need). */
  send: (exits: ProcessExit[], signal: AbortSignal) => Promise<string[]>;
  logger: Logger;
  backoff: Backoff;
}

export class ExitReporter {
  readonly #abort = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(private readonly o: ReporterOptions) {}

  /** There may be something to send. */
  kick(): void {
    if (this.#loop || this.#abort.signal.aborted) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = null;
      // An end journaled after the last look, while the loop was finishing.
      if (this.o.journal.unreported(this.o.key).length > 0) this.kick();
    });
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
    const { journal, key, logger } = this.o;
    let failures = 0;
    for (let pending = journal.unreported(key); pending.length > 0 && !this.#abort.signal.aborted; pending = journal.unreported(key)) {
      const batch = pending.slice(0, BATCH).map(({ origin: _origin, ...exit }) => exit);
      try {
        const acked = await this.o.send(batch, this.#abort.signal);
        // Sending the same batch again at once would only get the same answer.
        if (acked.length === 0) throw new Error('the controller acknowledged none of them');
        journal.acked(acked);
        if (failures > 0) logger.info({ controller: key, after: failures }, 'process ends reported again');
        failures = 0;
      } catch (err) {
        failures++;
        const delayMs = backoffDelay(this.o.backoff, failures);
        const facts = { controller: key, pending: pending.length, err: (err as Error).message, retryInMs: delayMs };
        if (failures === 1) logger.warn(facts, 'could not report process ends; keeping them and retrying');
        else logger.debug(facts, 'could not report process ends again');
        await sleep(delayMs, this.#abort.signal);
      }
    }
  }
}
