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

/**
 * Enough for every job in flight on a busy controller, and bounded in size too: jobs with large
 * data would otherwise hold their data here long after they ended. The oldest entries go first.
 */
const DEFAULT_LIMITS = { entries: 20_000, chars: 32 * 1024 * 1024 };

export class DocCache {
  readonly #docs = new Map<string, Stored>();
  #chars = 0;

  constructor(private readonly limits = DEFAULT_LIMITS) {}

  get(key: string): Stored | undefined {
    return this.#docs.get(key);
  }

  /** null: the document is gone (deleted, or never was); nothing to keep. */
  set(key: string, stored: Stored | null): void {
    this.forget(key);
    if (stored === null || size(stored) > this.limits.chars) return;
    this.#docs.set(key, stored);
    this.#chars += size(stored);
    while (this.#docs.size > this.limits.entries || this.#chars > this.limits.chars) this.forget(this.#docs.keys().next().value!);
  }

  forget(key: string): void {
    const gone = this.#docs.get(key);
    if (!gone) return;
    this.#docs.delete(key);
    this.#chars -= size(gone);
  }

  get chars(): number {
    return this.#chars;
  }
}

const size = (s: Stored) => s.json.length + (s.fixed?.length ?? 0);
