/**
 * Pending long waits (agent polls, clients waiting for a job), keyed by what they wait for.
 * Each wait settles exactly once — woken, timed out, its client gone, or the server closing —
 * and on settling removes its timer, its abort listener and itself (the `settled`/`finish()`
 * shape of BullMQ's postgres backend), so nothing leaks however it ends.
 */
export type Outcome = 'woken' | 'timeout' | 'closed';

export interface Waiting<M> {
  readonly key: string;
  readonly meta: M;
  /** Order in which waits began; lower waited longer. */
  readonly order: number;
  readonly promise: Promise<Outcome>;
  /** Ends the wait as `closed` if it has not ended yet. */
  cancel(): void;
  /** Ends this one wait as `woken` if it has not ended yet. */
  wake(): void;
}

export class Waiters<M> {
  readonly #byKey = new Map<string, Set<Entry<M>>>();
  #order = 0;
  #closed = false;

  /** Waits until `wake(key)`, `timeoutMs`, `signal` or `close()`, whichever comes first. */
  add(key: string, meta: M, timeoutMs: number, signal?: AbortSignal): Waiting<M> {
    const entry = new Entry(key, meta, ++this.#order, () => this.#remove(entry));
    if (this.#closed || signal?.aborted) {
      entry.finish('closed');
      return entry;
    }
    let set = this.#byKey.get(key);
    if (!set) this.#byKey.set(key, (set = new Set()));
    set.add(entry);
    entry.arm(Math.max(0, timeoutMs), signal);
    return entry;
  }

  /** Wakes every wait on `key`; returns how many. */
  wake(key: string): number {
    const set = this.#byKey.get(key);
    if (!set) return 0;
    const woken = [...set];
    for (const e of woken) e.finish('woken');
    return woken.length;
  }

  /** Wakes every wait. */
  wakeAll(): void {
    for (const set of [...this.#byKey.values()]) for (const e of [...set]) e.finish('woken');
  }

  /** The waits on one key, in the order they began. */
  on(key: string): Iterable<Waiting<M>> {
    return this.#byKey.get(key) ?? [];
  }

  /** The earliest wait of each key; keys in the order their first wait began. */
  *firstOfEachKey(): Generator<Waiting<M>> {
    for (const set of this.#byKey.values()) {
      const [first] = set;
      if (first) yield first;
    }
  }

  /** Every wait, grouped by key; keys in the order their first wait began. */
  *waiting(): Generator<Waiting<M>> {
    for (const set of this.#byKey.values()) yield* set;
  }

  get size(): number {
    let n = 0;
    for (const set of this.#byKey.values()) n += set.size;
    return n;
  }

  /** Ends every wait as `closed`; later waits end at once. */
  close(): void {
    this.#closed = true;
    for (const set of [...this.#byKey.values()]) for (const e of [...set]) e.finish('closed');
  }

  #remove(entry: Entry<M>): void {
    const set = this.#byKey.get(entry.key);
    if (!set) return;
    set.delete(entry);
    if (set.size === 0) this.#byKey.delete(entry.key);
  }
}

class Entry<M> implements Waiting<M> {
  readonly promise: Promise<Outcome>;
  #resolve!: (o: Outcome) => void;
  #settled = false;
  #timer: NodeJS.Timeout | undefined;
  #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.finish('closed');

  constructor(
    readonly key: string,
    readonly meta: M,
    readonly order: number,
    private readonly onSettled: () => void,
  ) {
    this.promise = new Promise((resolve) => (this.#resolve = resolve));
  }

  arm(timeoutMs: number, signal?: AbortSignal): void {
    this.#timer = setTimeout(() => this.finish('timeout'), timeoutMs);
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  cancel(): void {
    this.finish('closed');
  }

  wake(): void {
    this.finish('woken');
  }

  finish(outcome: Outcome): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.onSettled();
    this.#resolve(outcome);
  }
}
