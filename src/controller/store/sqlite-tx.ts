/** Transactions on the controller's SQLite file, and the listeners told what each one changed. */
import type Database from 'better-sqlite3';
import type { StoreEvent } from './job-store.js';

export class SqliteTx {
  readonly #listeners = new Set<(e: StoreEvent) => void>();
  /** Made once: better-sqlite3 builds a wrapper per `transaction()` call, a cost on every commit. */
  readonly #transaction: Database.Transaction<(work: (events: StoreEvent[]) => unknown, events: StoreEvent[]) => unknown>;

  constructor(private readonly db: Database.Database) {
    this.#transaction = db.transaction((work: (events: StoreEvent[]) => unknown, events: StoreEvent[]) => work(events));
  }

  /**
   * Runs `work` in one IMMEDIATE transaction (it takes the write lock at once, so two writers
   * never both read and then race to upgrade), then tells listeners about `events` — only once
   * the change is committed, so a listener never sees what a rollback undid.
   */
  run<T>(work: (events: StoreEvent[]) => T, opts: { durable?: boolean } = {}): T {
    const events: StoreEvent[] = [];
    // The file's NORMAL loses nothing when the process dies, only the last commits in a power cut.
    // A commit that another party acts on at once — an agent forgets what was acknowledged, a
    // client was handed a process — is synced to disk first, so a power cut cannot undo it.
    if (opts.durable) this.db.pragma('synchronous = FULL');
    try {
      const out = this.#transaction.immediate(work, events) as T;
      for (const e of events) for (const l of this.#listeners) l(e);
      return out;
    } finally {
      if (opts.durable) this.db.pragma('synchronous = NORMAL');
    }
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
