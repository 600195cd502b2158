/**
 * When to relaunch a child that exited while its target was `up`. Pure: `now` and `rand` come in,
 * so tests assert exact delays. Modelled on Nomad's restart tracker, without its give-up mode:
 * a host manager keeps trying for as long as the operator wants the child up.
 *
 * - A streak of failures starts at the first exit after a stable run (or after launch); the first
 *   exit of a streak is relaunched at once, because most crashes are one-off.
 * - Each further exit whose run was shorter than `stableAfterMs` waits
 *   `baseDelayMs * 2^(n-1)` (n = failures after the first), capped at `maxDelayMs`, with ±`jitter`
 *   spread so a fleet of children that crash together does not relaunch in lockstep.
 * - A start error the policy cannot expect to go away by itself (the command does not exist)
 *   waits the cap straight away, so a bad SCF entry does not spin.
 */

export interface RestartPolicyConfig {
  stableAfterMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Fraction of the delay by which it may vary either way, 0 ≤ jitter < 1. */
  jitter: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyConfig = {
  stableAfterMs: 10_000,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  jitter: 0.2,
};

/** What ended the run. `startedAt` is null when the process never started (spawn error). */
export interface ExitFacts {
  startedAt: number | null;
  exitedAt: number;
  code: number | null;
  signal: string | null;
  /** Set when the launch itself failed. */
  startError?: { message: string; recoverable: boolean };
  /** What the runner says happened when code and signal cannot. */
  note?: string;
}

export interface RestartState {
  /** Exits in the current streak, including the one being decided. */
  failures: number;
}

export interface RestartDecision {
  delayMs: number;
  reason: string;
  state: RestartState;
}

export const INITIAL_RESTART_STATE: RestartState = { failures: 0 };
/** After an exit relaunched at once, stable run or not. */
export const FIRST_EXIT_STATE: RestartState = { failures: 1 };

/**
 * The shortest run whose exit `decideRestart` will relaunch at once, known before the process even
 * starts: any run at the start of a streak, else a stable one. Lets the launcher act first.
 */
export function immediateRelaunchAfterMs(policy: RestartPolicyConfig, state: RestartState): number {
  return state.failures === 0 ? 0 : policy.stableAfterMs;
}

export function describeExit(facts: ExitFacts): string {
  if (facts.startError) return `failed to start: ${facts.startError.message}`;
  if (facts.signal) return `killed by ${facts.signal}`;
  // A re-attached process is not our child: the kernel gives its status to someone else. Other
  // runners (docker) say for themselves what an exit without a status was.
  if (facts.code === null) return facts.note ?? 'exited (status unknown: re-attached process)';
  return `exited with code ${facts.code ?? 'unknown'}`;
}

export function decideRestart(
  policy: RestartPolicyConfig,
  previous: RestartState,
  facts: ExitFacts,
  rand: () => number,
): RestartDecision {
  const what = describeExit(facts);
  if (facts.startError && !facts.startError.recoverable) {
    return {
      delayMs: policy.maxDelayMs,
      reason: `${what}; retrying in ${seconds(policy.maxDelayMs)}`,
      state: { failures: previous.failures + 1 },
    };
  }
  const ranFor = facts.startedAt === null ? 0 : facts.exitedAt - facts.startedAt;
  const stable = ranFor >= policy.stableAfterMs;
  const failures = stable ? 1 : previous.failures + 1;
  if (failures === 1) {
    const after = stable ? ` after a stable run of ${seconds(ranFor)}` : '';
    return { delayMs: 0, reason: `${what}${after}; relaunched at once`, state: { failures } };
  }
  const exponent = Math.min(failures - 2, 30);
  const raw = Math.min(policy.baseDelayMs * 2 ** exponent, policy.maxDelayMs);
  const spread = raw * policy.jitter * (2 * rand() - 1);
  const delayMs = Math.round(Math.min(policy.maxDelayMs, Math.max(0, raw + spread)));
  return {
    delayMs,
    reason: `${what} after ${seconds(ranFor)} (${failures} quick exits in a row); relaunch in ${seconds(delayMs)}`,
    state: { failures },
  };
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
