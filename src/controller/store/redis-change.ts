/**
 * One attempt at an atomic change on the Redis store (see redis-atomic.ts): the documents it read,
 * with their versions, which the commit checks unchanged; what it writes; the events it causes.
 */
import type { Redis } from 'ioredis';
import type { StoreEvent } from './job-store.js';
import type { DocCache, Stored } from './redis-doc-cache.js';

/** What must still hold at commit time. */
export type Check =
  /** The document's version is still this one (0: it does not exist). */
  | ['ver', key: string, version: number]
  /** The key (a plain string) still does not exist. */
  | ['absent', key: string]
  /** The member of the sorted set is still there with a score below the bound. */
  | ['below', key: string, member: string, bound: number];

/** A Redis command, run as given. */
export type Op = [command: string, ...args: (string | number)[]];

/** The index changes that take a document from `before` to `after` (null: absent). */
export type Indexer<T = unknown> = (before: T | null, after: T | null) => Op[];

/** An op's arguments as the script takes them: numbers there would stand for other arguments. */
const strings = (op: Op): string[] => op.map(String);

/** Thrown by a decision that read an index and a document out of step: decided again, from fresh reads. */
export class Raced extends Error {}

/** One attempt at a change: what it read (and so checks), and what it writes. */
export class Change {
  readonly events: StoreEvent[] = [];
  readonly #checks: Check[] = [];
  readonly #ops: Op[] = [];
  /** Version and JSON of each document as read; null where absent. */
  readonly #read = new Map<string, Stored | null>();
  /** The documents handed out, which the caller changes in place before writing them. */
  readonly #current = new Map<string, unknown>();
  /** Keys written, each with what derives its index entries and its fixed properties. */
  readonly #written = new Map<string, { index: Indexer | undefined; fixed: readonly string[] }>();
  /** Some document was taken from the cache, not read: a change that writes nothing must still check. */
  #cached = false;
  #settled: [key: string, stored: Stored | null][] | null = null;

  /** `cache` is null for an attempt that follows a lost race: it reads everything afresh. */
  constructor(
    private readonly client: Redis,
    private readonly cache: DocCache | null,
  ) {}

  /**
   * The documents at `keys` (null where absent), the same objects each time within a change,
   * each checked unchanged at commit.
   */
  async docs<T>(keys: readonly string[]): Promise<(T | null)[]> {
    const missing = [];
    for (const k of new Set(keys)) {
      if (this.#read.has(k)) continue;
      const known = this.cache?.get(k);
      if (known) {
        this.#cached = true;
        this.#take(k, known);
      } else missing.push(k);
    }
    if (missing.length > 0) {
      const rows = await Promise.all(missing.map((k) => this.client.hmget(k, 'v', 'doc', 'fixed')));
      missing.forEach((k, i) => {
        const [v, json, fixed] = rows[i]!;
        this.#take(k, v != null && json != null ? { v: Number(v), json, ...(fixed != null ? { fixed } : {}) } : null);
      });
    }
    return keys.map((k) => this.#current.get(k) as T | null);
  }

  /**
   * A document that is expected not to exist, as a new job's: taken as absent without a read on a
   * first attempt, and checked at commit; if it exists after all, the retry reads it.
   */
  async expectAbsent<T>(key: string): Promise<T | null> {
    if (this.cache === null || this.#read.has(key)) return this.doc<T>(key);
    this.#cached = true;
    this.#take(key, null);
    return null;
  }

  #take(key: string, stored: Stored | null): void {
    this.#read.set(key, stored);
    this.#current.set(key, parse(stored));
    this.#checks.push(['ver', key, stored?.v ?? 0]);
  }

  /**
   * Documents read, as they stand once this change committed; null where it deleted them. Made
   * once, when the script's arguments are: the documents are not changed after that.
   */
  settled(): [key: string, stored: Stored | null][] {
    this.#settled ??= [...this.#read].map(([key, read]) => {
      const written = this.#written.get(key);
      if (!written) return [key, read];
      const doc = this.#current.get(key) as Record<string, unknown> | null;
      if (doc === null) return [key, null];
      const rest = { ...doc };
      for (const name of written.fixed) delete rest[name];
      const fixed = read?.fixed ?? (written.fixed.length ? JSON.stringify(Object.fromEntries(written.fixed.map((n) => [n, doc[n]]))) : undefined);
      return [key, { v: (read?.v ?? 0) + 1, json: JSON.stringify(rest), ...(fixed !== undefined ? { fixed } : {}) }];
    });
    return this.#settled;
  }

  /** Keys whose cached copies a lost race showed to be stale. */
  readKeys(): string[] {
    return [...this.#read.keys()];
  }

  get usedCache(): boolean {
    return this.#cached;
  }

  async doc<T>(key: string): Promise<T | null> {
    return (await this.docs<T>([key]))[0]!;
  }

  /** The document as stored before this change, a fresh copy: index upkeep compares it with what is written. */
  original<T>(key: string): T | null {
    return parse(this.#read.get(key) ?? null) as T | null;
  }

  /**
   * Writes `doc` at `key` at commit (null deletes it), with the index changes `index` derives from
   * the document as read and as written. The properties named `fixed` are written with the first
   * version only: later versions leave them out, so a large job spec is not sent again with every
   * change of its state. The key must have been read first.
   */
  put<T>(key: string, doc: T | null, index?: Indexer<T>, fixed: readonly (keyof T & string)[] = []): void {
    if (!this.#read.has(key)) throw new Error(`redis store: ${key} written without being read`);
    this.#current.set(key, doc);
    this.#written.set(key, { index: index as Indexer | undefined, fixed });
  }

  /**
   * An index read (not versioned) named a document that no longer matches it: another controller
   * committed in between. Ends this attempt; the change is decided again.
   */
  raced(): never {
    throw new Raced('raced');
  }

  check(c: Check): void {
    this.#checks.push(c);
  }

  op(...op: Op): void {
    this.#ops.push(op);
  }

  /**
   * The script's arguments: the checks; the writes (documents, their indexes, the other ops, the
   * events to publish), in which a number n stands for argument n; then the documents' JSON.
   */
  script(channel: string, origin: string): string[] {
    const ops: (string | number)[][] = [];
    const docs: string[] = [];
    const settled = new Map(this.settled());
    for (const [key, { index }] of this.#written) {
      const stored = settled.get(key);
      if (!stored) ops.push(['DEL', key]);
      else {
        const op: (string | number)[] = ['HSET', key, 'v', String(stored.v), 'doc', 3 + docs.push(stored.json) - 1];
        if (stored.fixed !== undefined && !this.#read.get(key)?.fixed) op.push('fixed', 3 + docs.push(stored.fixed) - 1);
        ops.push(op);
      }
      if (index) ops.push(...index(this.original(key), this.#current.get(key) ?? null).map(strings));
    }
    ops.push(...this.#ops.map(strings));
    if (this.events.length > 0) ops.push(['PUBLISH', channel, JSON.stringify({ origin, events: this.events })]);
    return [JSON.stringify(this.#checks), JSON.stringify(ops), ...docs];
  }

  get writes(): boolean {
    return this.#written.size > 0 || this.#ops.length > 0;
  }
}

/** A stored document as an object, its fixed part put back. */
function parse(stored: Stored | null): unknown {
  if (!stored) return null;
  const doc = JSON.parse(stored.json) as Record<string, unknown>;
  return stored.fixed === undefined ? doc : Object.assign(doc, JSON.parse(stored.fixed));
}
