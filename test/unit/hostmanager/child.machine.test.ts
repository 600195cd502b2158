import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, SimulatedClock } from 'xstate';
import {
  childMachine,
  nextAction,
  type ClearChildInput,
  type ChildInput,
  type ProcessCommand,
  type ProcessReport,
  type RunChildInput,
} from '../../../src/hostmanager/child/child.machine.js';

/** A fake process driver: records what the machine asked of each launch and lets the test report back. */
function fakeDriver() {
  const launches: { commands: string[]; report: (e: ProcessReport) => void; stopped: boolean }[] = [];
  const logic = fromCallback<ProcessCommand, RunChildInput>(({ sendBack, receive }) => {
    const launch = { commands: [] as string[], report: sendBack, stopped: false };
    launches.push(launch);
    receive((cmd) => launch.commands.push(cmd.type));
    return () => {
      launch.stopped = true;
    };
  });
  return { logic, launches, last: () => launches.at(-1)! };
}

/** A fake `clearChild`: records each clear and the commands it got, and lets the test report it done. */
function fakeClearer() {
  const clears: { input: ClearChildInput; commands: string[]; report: (e: ProcessReport) => void }[] = [];
  const logic = fromCallback<ProcessCommand, ClearChildInput>(({ input, sendBack, receive }) => {
    const clear = { input, commands: [] as string[], report: sendBack };
    clears.push(clear);
    receive((cmd) => clear.commands.push(cmd.type));
  });
  return { logic, clears };
}

const dockerLaunch = { kind: 'docker', service: 'ocs-d1', composeFile: '/srv/lab/docker-compose.yaml', project: 'lab' } as const;

function start(overrides: Partial<ChildInput> = {}) {
  const clock = new SimulatedClock();
  const driver = fakeDriver();
  const clearer = fakeClearer();
  const input: ChildInput = {
    instanceId: 'thermo1',
    target: 'up',
    launch: { argv: ['/bin/true'], cwd: '/', env: {} },
    notOperableReason: null,
    stopGraceMs: 10_000,
    policy: { stableAfterMs: 10_000, baseDelayMs: 1_000, maxDelayMs: 60_000, jitter: 0 },
    now: () => clock.now(),
    rand: () => 0.5,
    ...overrides,
  };
  const actor = createActor(childMachine.provide({ actors: { runChild: driver.logic, clearChild: clearer.logic } }), { input, clock });
  actor.start();
  const action = () => nextAction(actor.getSnapshot().value);
  return { actor, clock, driver, clearer, action, ctx: () => actor.getSnapshot().context };
}

describe('child machine', () => {
  it('launches a child whose target is up and reports wait_start until it spawns', () => {
    const t = start();
    expect(t.action()).toBe('wait_start');
    t.driver.last().report({ type: 'SPAWNED', pid: 42 });
    expect(t.action()).toBe('up');
    expect(t.ctx().pid).toBe(42);
  });

  it('stays down when its target is down, and launches on SET_TARGET up', () => {
    const t = start({ target: 'down' });
    expect(t.action()).toBe('down');
    expect(t.driver.launches).toHaveLength(0);
    t.actor.send({ type: 'SET_TARGET', target: 'up' });
    expect(t.action()).toBe('wait_start');
  });

  it('relaunches at once after a crash that followed a stable run', () => {
    const t = start();
    t.driver.last().report({ type: 'SPAWNED', pid: 1 });
    t.clock.increment(30_000);
    t.driver.last().report({ type: 'EXITED', code: 3, signal: null });
    expect(t.driver.launches).toHaveLength(2);
    expect(t.driver.launches[0]!.stopped).toBe(true);
    expect(t.action()).toBe('wait_start');
    expect(t.ctx().crashes).toBe(1);
    expect(t.ctx().lastExit).toBe('exited with code 3');
  });

  it('waits in start_at with backoff when the child keeps crashing', () => {
    const t = start();
    t.driver.last().report({ type: 'SPAWNED', pid: 1 });
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null }); // 1st quick exit: at once
    t.driver.last().report({ type: 'SPAWNED', pid: 2 });
    t.clock.increment(100);
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null }); // 2nd: 1 s
    expect(t.action()).toBe('start_at');
    expect(t.ctx().nextStartAt).toBe(100 + 1_000);
    t.clock.increment(999);
    expect(t.driver.launches).toHaveLength(2);
    t.clock.increment(1);
    expect(t.driver.launches).toHaveLength(3);
    expect(t.action()).toBe('wait_start');
  });

  it('does not cut backoff short on up, but goes down at once on down', () => {
    const t = start({ policy: { stableAfterMs: 10_000, baseDelayMs: 5_000, maxDelayMs: 60_000, jitter: 0 } });
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null });
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null });
    expect(t.action()).toBe('start_at');
    t.actor.send({ type: 'SET_TARGET', target: 'up' });
    expect(t.action()).toBe('start_at');
    t.actor.send({ type: 'SET_TARGET', target: 'down' });
    expect(t.action()).toBe('down');
    t.clock.increment(10_000);
    expect(t.driver.launches).toHaveLength(2);
  });

  it('says a crash-looping child told down was stopped on request, not when it would relaunch', () => {
    const t = start();
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null });
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null });
    expect(t.ctx().reason).toMatch(/relaunch in/);
    t.actor.send({ type: 'SET_TARGET', target: 'down' });
    expect(t.action()).toBe('down');
    expect(t.ctx().reason).toBe('stopped on request');
    expect(t.ctx().lastExit).toBe('exited with code 1');
    expect(t.clearer.clears).toHaveLength(0);
  });

  it('does not promise a relaunch to a child that exits while its target is down', () => {
    const t = start({ target: 'down', adopt: { pid: 5, startTime: '1' } });
    expect(t.action()).toBe('wait_start');
    t.driver.last().report({ type: 'EXITED', code: null, signal: null });
    expect(t.action()).toBe('down');
    expect(t.ctx().reason).toBe('not relaunched: its target is down');
  });

  it('brings a docker child told down in backoff down through clearChild, whose container may run unseen', () => {
    const t = start({ launch: dockerLaunch, stopGraceMs: 2_000 });
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null });
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null });
    expect(t.action()).toBe('start_at');
    t.actor.send({ type: 'SET_TARGET', target: 'down' });
    expect(t.action()).toBe('wait_dead');
    expect(t.clearer.clears.map((c) => c.input)).toEqual([{ instanceId: 'thermo1', launch: dockerLaunch }]);
    t.clock.increment(2_000);
    expect(t.clearer.clears[0]!.commands).toEqual(['KILL']);
    t.clearer.clears[0]!.report({ type: 'EXITED', code: null, signal: null, note: 'service brought down' });
    expect(t.action()).toBe('down');
    expect(t.ctx()).toMatchObject({ reason: 'stopped on request', lastExit: 'exited with code 1', crashes: 2 });
    expect(t.driver.launches).toHaveLength(2);
  });

  it('relaunches a docker child cleared in backoff once the service is down, if its target went back up', () => {
    const t = start({ launch: dockerLaunch });
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null });
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null });
    t.actor.send({ type: 'SET_TARGET', target: 'down' });
    t.actor.send({ type: 'SET_TARGET', target: 'up' });
    expect(t.action()).toBe('wait_dead');
    t.clearer.clears[0]!.report({ type: 'EXITED', code: null, signal: null });
    expect(t.action()).toBe('wait_start');
    expect(t.driver.launches).toHaveLength(3);
  });

  it('describes an exit without status as its runner does', () => {
    const t = start({ launch: dockerLaunch });
    t.driver.last().report({ type: 'SPAWNED', pid: 9 });
    t.driver.last().report({ type: 'EXITED', code: null, signal: null, note: 'exited (no exit code reported by the engine)' });
    expect(t.ctx().lastExit).toBe('exited (no exit code reported by the engine)');
    expect(t.ctx().reason).toBe('exited (no exit code reported by the engine); relaunched at once');
  });

  it('stops with TERM, escalates to KILL after the grace time, and lands in down', () => {
    const t = start({ stopGraceMs: 2_000 });
    t.driver.last().report({ type: 'SPAWNED', pid: 1 });
    t.actor.send({ type: 'SET_TARGET', target: 'down' });
    expect(t.action()).toBe('wait_dead');
    expect(t.driver.last().commands).toEqual(['TERM']);
    t.clock.increment(1_999);
    expect(t.driver.last().commands).toEqual(['TERM']);
    t.clock.increment(1);
    expect(t.driver.last().commands).toEqual(['TERM', 'KILL']);
    t.driver.last().report({ type: 'EXITED', code: null, signal: 'SIGKILL' });
    expect(t.action()).toBe('down');
    expect(t.ctx().exits).toEqual([]); // a requested stop is not a crash
    expect(t.ctx().reason).toBe('stopped on request');
  });

  it('terminates a child that spawns only after the stop was requested', () => {
    const t = start();
    t.actor.send({ type: 'SET_TARGET', target: 'down' });
    expect(t.driver.last().commands).toEqual(['TERM']);
    t.driver.last().report({ type: 'SPAWNED', pid: 7 });
    expect(t.driver.last().commands).toEqual(['TERM', 'TERM']);
  });

  it('relaunches after the stop when the target went back up meanwhile', () => {
    const t = start();
    t.driver.last().report({ type: 'SPAWNED', pid: 1 });
    t.actor.send({ type: 'SET_TARGET', target: 'down' });
    t.actor.send({ type: 'SET_TARGET', target: 'up' });
    expect(t.action()).toBe('wait_dead');
    t.driver.last().report({ type: 'EXITED', code: 0, signal: null });
    expect(t.driver.launches).toHaveLength(2);
  });

  it('restarts a running child with its new launch spec on RECONFIGURE', () => {
    const t = start();
    t.driver.last().report({ type: 'SPAWNED', pid: 1 });
    const launch = { argv: ['/bin/sleep', '9'], cwd: '/tmp', env: {} };
    t.actor.send({ type: 'RECONFIGURE', launch, notOperableReason: null, stopGraceMs: 10_000, policy: t.ctx().policy });
    expect(t.action()).toBe('wait_dead');
    t.driver.last().report({ type: 'EXITED', code: 0, signal: 'SIGTERM' });
    expect(t.driver.launches).toHaveLength(2);
    expect(t.ctx().launch).toEqual(launch);
    expect(t.ctx().reason).toBe('restarting with new configuration');
  });

  it('is not operable without a launch spec and keeps the reason', () => {
    const t = start({ launch: null, notOperableReason: 'agent-class "X" has no command' });
    expect(t.action()).toBe('?');
    t.actor.send({ type: 'SET_TARGET', target: 'up' });
    expect(t.action()).toBe('?');
    expect(t.ctx().reason).toBe('agent-class "X" has no command');
    t.actor.send({ type: 'RECONFIGURE', launch: { argv: ['/bin/true'], cwd: '/', env: {} }, notOperableReason: null, stopGraceMs: 1, policy: t.ctx().policy });
    expect(t.action()).toBe('wait_start');
  });

  it('backs off with the cap when the command does not exist', () => {
    const t = start();
    t.driver.last().report({ type: 'SPAWN_FAILED', message: 'spawn nope ENOENT', recoverable: false });
    expect(t.action()).toBe('start_at');
    expect(t.ctx().nextDelayMs).toBe(60_000);
  });

  it('counts unexpected exits for stability and forgets them after the window', () => {
    const t = start();
    t.driver.last().report({ type: 'SPAWNED', pid: 1 });
    t.clock.increment(20_000);
    t.driver.last().report({ type: 'EXITED', code: 1, signal: null });
    expect(t.ctx().exits).toEqual([20_000]);
  });
});
