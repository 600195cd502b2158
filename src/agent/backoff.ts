/**
 * Exponential backoff with jitter, bounded: attempt n waits up to `baseMs * 2^(n-1)`, capped at
 * `maxMs`, less a random share of up to `jitter` so that agents cut off together (a controller
 * restart) do not come back in lockstep. Pure: `rand` comes in.
 */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** 0 ≤ jitter < 1. */
  jitter: number;
}

/** Delay before attempt `attempt` (1 = the first retry). */
export function backoffDelay(policy: Backoff, attempt: number, rand: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (1 - policy.jitter * rand()));
}

/** Waits `ms`, or less if `signal` aborts first; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
