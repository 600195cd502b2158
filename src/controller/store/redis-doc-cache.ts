/**
 * The documents this controller last read or wrote, with their versions. A change decides from a
 * cached copy instead of reading it again, and the commit's version check still guards it: a copy
 * made stale by another controller costs one lost race and a fresh read, never a wrong write. With
 * one controller, or a job whose submit, offer, ack and result go through the same one, every
 * step after the first is one round trip to Redis instead of two.
 */
export interface Stored {
  v: number;
  /** The document, less its fixed part. */
  json: string;
  /** Properties written once, with the document's first version, and never again (a job's spec). */
  fixed?: string;
}

/** Enough for every job in flight on a busy controller; the oldest entries go first. */
const CAPACITY = 20_000;

export class DocCache {
  readonly #docs = new Map<string, Stored>();

  get(key: string): Stored | undefined {
    return this.#docs.get(key);
  }

  /** null: the document is gone (deleted, or never was); nothing to keep. */
  set(key: string, stored: Stored | null): void {
    this.#docs.delete(key);
    if (stored === null) return;
    this.#docs.set(key, stored);
    if (this.#docs.size > CAPACITY) this.#docs.delete(this.#docs.keys().next().value!);
  }

  forget(key: string): void {
    this.#docs.delete(key);
  }
}
