/**
 * Writes that arrive in the same turn of the event loop, committed in one transaction. A commit
 * (its WAL append, and the checkpoints that follow from the pages it dirtied) costs far more than
 * the few rows one submit, offer, ack or result changes, and under load one turn carries the
 * calls of many clients and agents: each waited for its own commit before.
 *
 * The first write after a quiet spell is committed at once, so a lone call (one job in flight)
 * waits for nothing; the writes that follow in the same turn wait for `setImmediate`, after every
 * call the event loop read in this turn, and go together. Under load that is one small commit and
 * one large one per turn.
 */
export type Outcome<O> = { value: O } | { error: unknown };

export class GroupCommit<I, O> {
  #pending: { item: I; resolve: (o: O) => void; reject: (err: unknown) => void }[] = [];
  /** A batch is due at setImmediate: writes until then join it. */
  #gathering = false;

  /** `commit` writes all items in one transaction, one outcome per item: a failed item fails alone. */
  constructor(private readonly commit: (items: I[]) => Outcome<O>[]) {}

  add(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#gathering) return;
      this.#gathering = true;
      setImmediate(() => {
        this.#gathering = false;
        this.flush();
      });
      this.flush();
    });
  }

  /** Commits what is pending now; a store that closes calls it first, so nothing is dropped. */
  flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    let outcomes: Outcome<O>[];
    try {
      outcomes = this.commit(batch.map((b) => b.item));
    } catch (err) {
      for (const b of batch) b.reject(err);
      return;
    }
    batch.forEach((b, i) => {
      const o = outcomes[i]!;
      if ('error' in o) b.reject(o.error);
      else b.resolve(o.value);
    });
  }
}
