/**
 * OCS's stability score: over the unexpected exits at times t within the last `windowMs`,
 * stability = max(0, 1 − Σ 5 s / (now − t)). One crash 10 s ago gives 0.5; `cox status` calls a
 * child `unstable` at ≤ 0.5, as ocsbow does. Unlike OCS, exits older than the window are dropped,
 * so a child that stopped crashing returns to exactly 1.0.
 */

export const STABILITY_WINDOW_MS = 120_000;
const WEIGHT_MS = 5_000;
/** Keeps a crash "right now" from dividing by zero; it scores as a crash 1 ms ago (→ 0). */
const MIN_AGE_MS = 1;

export function stability(exitTimes: readonly number[], now: number, windowMs = STABILITY_WINDOW_MS): number {
  let penalty = 0;
  for (const t of exitTimes) {
    const age = now - t;
    if (age < 0 || age >= windowMs) continue;
    penalty += WEIGHT_MS / Math.max(age, MIN_AGE_MS);
  }
  return Math.max(0, 1 - penalty);
}

/** Drops exits that can no longer count, keeping the list bounded by the crash rate. */
export function pruneExits(exitTimes: readonly number[], now: number, windowMs = STABILITY_WINDOW_MS): number[] {
  return exitTimes.filter((t) => now - t < windowMs);
}
