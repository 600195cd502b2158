import { describe, expect, it } from 'vitest';
import { launchKeyOf } from '../../../src/hostmanager/process/native-driver.js';
import { planReattach } from '../../../src/hostmanager/state/reattach.js';
import type { InstanceConfig } from '../../../src/site-config/types.js';

const instance = (instanceId: string, argv = ['/bin/sleep', '9']): InstanceConfig => ({
  instanceId,
  agentClass: 'A',
  manage: 'host/up',
  arguments: [],
  launch: { argv, cwd: '/', env: {} },
  stopGraceMs: 10_000,
  line: 1,
});
const handle = (pid: number, startTime: string, inst = instance('x')) => ({ pid, startTime, launchKey: launchKeyOf(inst.launch!) });

describe('planReattach', () => {
  const procs: Record<number, string> = { 100: 't100', 200: 't200', 300: 't300', 400: 't400' };
  const startTimeOf = (pid: number) => procs[pid] ?? null;

  it('re-attaches a live process with the same start time and launch spec', () => {
    const a = instance('a');
    const plan = planReattach(new Map([['a', handle(100, 't100', a)]]), [a], [{ pid: 100, id: 'a' }], startTimeOf);
    expect(plan).toEqual({ adopt: new Map([['a', { pid: 100, startTime: 't100' }]]), terminate: [], forget: [] });
  });

  it('forgets a handle whose pid is gone or was reused, and leaves the other process alone', () => {
    const a = instance('a');
    const b = instance('b');
    const plan = planReattach(new Map([['a', handle(999, 't999', a)], ['b', handle(200, 'old', b)]]), [a, b], [], startTimeOf);
    expect(plan).toEqual({ adopt: new Map(), terminate: [], forget: ['a', 'b'] });
  });

  it('terminates our process when its instance left the SCF or its launch spec changed', () => {
    const changed = instance('c', ['/bin/sleep', '10']);
    const plan = planReattach(
      new Map([['gone', handle(100, 't100')], ['c', handle(200, 't200', instance('c'))]]),
      [changed],
      [],
      startTimeOf,
    );
    expect(plan.adopt.size).toBe(0);
    expect(plan.terminate).toEqual([
      { pid: 100, instanceId: 'gone', why: 'it is no longer in the site config' },
      { pid: 200, instanceId: 'c', why: 'its launch spec changed' },
    ]);
  });

  it('terminates a marked process that has no handle', () => {
    const plan = planReattach(new Map(), [instance('d')], [{ pid: 400, id: 'd' }], startTimeOf);
    expect(plan.terminate).toEqual([{ pid: 400, instanceId: 'd', why: 'it was never recorded, so it cannot be verified' }]);
  });
});
