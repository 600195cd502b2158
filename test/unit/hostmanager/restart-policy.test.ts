import { describe, expect, it } from 'vitest';
import { decideRestart, FIRST_EXIT_STATE, immediateRelaunchAfterMs, INITIAL_RESTART_STATE, type ExitFacts, type RestartPolicyConfig } from '../../../src/hostmanager/child/restart-policy.js';
import { mayRelaunch, RELAUNCH_MARGIN_MS } from '../../../src/hostmanager/launcher/launched-runs.js';

const policy: RestartPolicyConfig = { stableAfterMs: 10_000, baseDelayMs: 1_000, maxDelayMs: 60_000, jitter: 0.2 };
const mid = () => 0.5; // no jitter
const crash = (startedAt: number, exitedAt: number, code = 1): ExitFacts => ({ startedAt, exitedAt, code, signal: null });

describe('decideRestart', () => {
  it('relaunches at once after a stable run, and says so', () => {
    const d = decideRestart(policy, { failures: 4 }, crash(0, 60_000), mid);
    expect(d.delayMs).toBe(0);
    expect(d.state.failures).toBe(1);
    expect(d.reason).toBe('exited with code 1 after a stable run of 60 s; relaunched at once');
  });

  it('relaunches the first quick exit at once, then backs off exponentially to the cap', () => {
    let state = INITIAL_RESTART_STATE;
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const d = decideRestart(policy, state, crash(i * 100, i * 100 + 50), mid);
      state = d.state;
      delays.push(d.delayMs);
    }
    expect(delays).toEqual([0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('spreads the delay by the jitter fraction either way', () => {
    const state = { failures: 2 }; // next is the 3rd quick exit: 2 s nominal
    expect(decideRestart(policy, state, crash(0, 10), () => 0).delayMs).toBe(1_600);
    expect(decideRestart(policy, state, crash(0, 10), () => 1).delayMs).toBe(2_400);
  });

  it('never exceeds the cap, even with jitter', () => {
    const d = decideRestart(policy, { failures: 20 }, crash(0, 10), () => 1);
    expect(d.delayMs).toBe(60_000);
  });

  it('resets the streak after a stable run', () => {
    const after = decideRestart(policy, { failures: 7 }, crash(0, 10_000), mid);
    const next = decideRestart(policy, after.state, crash(10_000, 10_500), mid);
    expect(next.delayMs).toBe(1_000);
  });

  it('waits the cap at once when the command cannot start', () => {
    const d = decideRestart(policy, INITIAL_RESTART_STATE, {
      startedAt: null,
      exitedAt: 5,
      code: null,
      signal: null,
      startError: { message: 'spawn nope ENOENT', recoverable: false },
    }, mid);
    expect(d.delayMs).toBe(60_000);
    expect(d.reason).toBe('failed to start: spawn nope ENOENT; retrying in 60 s');
  });

  it('names the signal that killed the child', () => {
    const d = decideRestart(policy, { failures: 1 }, { startedAt: 0, exitedAt: 3_000, code: null, signal: 'SIGKILL' }, mid);
    expect(d.reason).toBe('killed by SIGKILL after 3.0 s (2 quick exits in a row); relaunch in 1.0 s');
  });
});

describe('the relaunch answer given in advance (immediateRelaunchAfterMs)', () => {
  // The launcher acts on it before decideRestart runs: the two must never disagree on "at once".
  it('agrees with decideRestart for every streak length and run length', () => {
    for (const failures of [0, 1, 2, 5]) {
      const afterMs = immediateRelaunchAfterMs(policy, { failures });
      for (const ranFor of [0, 50, 9_999, 10_000, 10_000 + RELAUNCH_MARGIN_MS, 60_000]) {
        const atOnce = decideRestart(policy, { failures }, crash(0, ranFor), mid).delayMs === 0;
        if (mayRelaunch(afterMs, ranFor)) expect(atOnce, `failures ${failures}, ran ${ranFor} ms`).toBe(true);
        if (ranFor >= afterMs) expect(atOnce, `failures ${failures}, ran ${ranFor} ms`).toBe(true);
      }
    }
  });

  it('is any run at the start of a streak, else a stable one; after an immediate relaunch, a stable one', () => {
    expect(immediateRelaunchAfterMs(policy, INITIAL_RESTART_STATE)).toBe(0);
    expect(immediateRelaunchAfterMs(policy, { failures: 3 })).toBe(10_000);
    expect(decideRestart(policy, INITIAL_RESTART_STATE, crash(0, 5), mid).state).toEqual(FIRST_EXIT_STATE);
    expect(immediateRelaunchAfterMs(policy, FIRST_EXIT_STATE)).toBe(10_000);
  });

  it('lets the launcher relaunch only with a margin over a non-zero threshold, and never once stopped', () => {
    expect(mayRelaunch(0, 0)).toBe(true);
    expect(mayRelaunch(10_000, 10_000)).toBe(false);
    expect(mayRelaunch(10_000, 10_000 + RELAUNCH_MARGIN_MS)).toBe(true);
    expect(mayRelaunch(null, 60_000)).toBe(false);
  });
});
