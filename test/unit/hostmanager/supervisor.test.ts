import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import type { ProcessCommand, RunChildInput } from '../../../src/hostmanager/child/child.machine.js';
import { Supervisor, type DockerInventory } from '../../../src/hostmanager/supervisor.js';
import type { InstanceConfig, SiteConfig } from '../../../src/site-config/types.js';

/**
 * Fake processes: spawn at once, exit when told to stop (with `slowStop`, only once the test calls
 * the matching entry of `stops`); every launch is recorded.
 */
function fakes(slowStop = false) {
  const launches: string[] = [];
  const stops: (() => void)[] = [];
  let pid = 100;
  const logic = fromCallback<ProcessCommand, RunChildInput>(({ input, sendBack, receive }) => {
    launches.push(input.instanceId);
    queueMicrotask(() => sendBack({ type: 'SPAWNED', pid: pid++ }));
    const exit = () => sendBack({ type: 'EXITED', code: 0, signal: null });
    receive(() => (slowStop ? stops.push(exit) : queueMicrotask(exit)));
  });
  return { logic, launches, stops };
}

const inst = (instanceId: string, extra: Partial<InstanceConfig> = {}): InstanceConfig => ({
  instanceId,
  agentClass: 'A',
  manage: 'host/up',
  arguments: [],
  launch: { argv: ['/bin/x'], cwd: '/', env: {} },
  stopGraceMs: 1_000,
  line: 1,
  ...extra,
});
const site = (instances: InstanceConfig[]): SiteConfig => ({ file: 'f', host: 'h', hub: { addressRoot: 'o' }, logDir: '/tmp', instances, warnings: [] });
const tick = () => new Promise((r) => setTimeout(r, 5));

function make({ docker, slowStop = false }: { docker?: DockerInventory; slowStop?: boolean } = {}) {
  const f = fakes(slowStop);
  const sv = new Supervisor({ runChild: f.logic, logger: pino({ level: 'silent' }), ...(docker ? { docker } : {}) });
  const row = (id: string) => sv.states().find((s) => s.instance_id === id);
  /** What the host manager writes to targets.json, each time the supervisor asks it to. */
  const saves: Record<string, string>[] = [];
  sv.on('targets', () => saves.push(Object.fromEntries(sv.requestedTargets)));
  return { sv, launches: f.launches, stops: f.stops, row, saves };
}

describe('Supervisor.apply', () => {
  it('adds instances with their manage target and leaves ignored ones out', async () => {
    const { sv, launches, row } = make();
    expect(sv.apply(site([inst('a'), inst('b', { manage: 'host/down' }), inst('c', { manage: 'ignore', launch: null })]))).toEqual({ added: ['a', 'b'], changed: [], removed: [] });
    await tick();
    expect(launches).toEqual(['a']);
    expect(row('b')?.next_action).toBe('down');
    expect(row('c')).toBeUndefined();
  });

  it('restarts only children whose launch-relevant fields changed, and only if up', async () => {
    const { sv, launches } = make();
    sv.apply(site([inst('a'), inst('b'), inst('c', { manage: 'host/down' })]));
    await tick();
    const edited = [inst('a', { launch: { argv: ['/bin/y'], cwd: '/', env: {} } }), inst('b', { stopGraceMs: 5_000 }), inst('c', { agentClass: 'B' })];
    expect(sv.apply(site(edited))).toEqual({ added: [], changed: ['a', 'c'], removed: [] });
    await tick();
    expect(launches).toEqual(['a', 'b', 'a']);
  });

  it('brings removed and newly ignored children down, then drops them', async () => {
    const { sv, row } = make();
    sv.apply(site([inst('a'), inst('b'), inst('c')]));
    await tick();
    expect(sv.apply(site([inst('a'), inst('c', { manage: 'ignore', launch: null })])).removed).toEqual(['b', 'c']);
    expect(row('b')).toMatchObject({ target_state: 'down', next_action: 'wait_dead' });
    await tick();
    expect(sv.states().map((s) => s.instance_id)).toEqual(['a']);
  });

  it('keeps the order of requests, records what operators asked for, and reports unknown ids', async () => {
    const { sv, row } = make();
    sv.apply(site([inst('a', { manage: 'host/down' }), inst('b', { manage: 'host/down' })]));
    expect(sv.setTargets([['all', 'up'], ['b', 'down'], ['zz', 'up']])).toEqual(['zz']);
    await tick();
    expect([row('a')?.next_action, row('b')?.next_action]).toEqual(['up', 'down']);
    expect(Object.fromEntries(sv.requestedTargets)).toEqual({ a: 'up', b: 'down' });
  });

  it('restores persisted targets over manage for new children', async () => {
    const { sv, row } = make();
    sv.apply(site([inst('a'), inst('b', { manage: 'host/down' })]), { targets: new Map([['a', 'down'], ['b', 'up']]) });
    await tick();
    expect([row('a')?.next_action, row('b')?.next_action]).toEqual(['down', 'up']);
  });

  it('restores targets over a restart only for instances still in the SCF, and persists what it forgot', async () => {
    const { sv, saves } = make();
    sv.apply(site([inst('a')]), { targets: new Map([['a', 'down'], ['gone', 'up']]) });
    expect(saves).toEqual([{ a: 'down' }]);
    sv.apply(site([inst('a')]));
    expect(saves).toHaveLength(1);
  });

  it('lets --initial-state override restored targets without keeping it or them', async () => {
    const { sv, row, saves } = make();
    sv.apply(site([inst('a'), inst('b', { manage: 'host/down' })]), { targets: new Map([['a', 'down']]), initial: 'up' });
    await tick();
    expect([row('a')?.target_state, row('b')?.target_state]).toEqual(['up', 'up']);
    expect(saves).toEqual([{}]);
    sv.setTargets([['a', 'down']]);
    expect(saves.at(-1)).toEqual({ a: 'down' });
  });
});

describe('an instance removed from the SCF and put back', () => {
  it('forgets the target operators set, and persists that it did', async () => {
    const { sv, row, saves } = make();
    sv.apply(site([inst('a'), inst('b')]));
    sv.setTargets([['a', 'down']]);
    await tick();
    expect(saves.at(-1)).toEqual({ a: 'down' });
    sv.apply(site([inst('b')]));
    expect(saves.at(-1)).toEqual({});
    await tick();
    sv.apply(site([inst('a'), inst('b')]));
    await tick();
    expect(row('a')).toMatchObject({ target_state: 'up', next_action: 'up' });
    expect(Object.fromEntries(sv.requestedTargets)).toEqual({});
  });

  it('takes its target from manage when put back while it is still stopping', async () => {
    const { sv, row, saves, stops } = make({ slowStop: true });
    sv.apply(site([inst('a')]));
    sv.setTargets([['a', 'up']]);
    await tick();
    sv.apply(site([]));
    expect(row('a')).toMatchObject({ target_state: 'down', next_action: 'wait_dead' });
    sv.apply(site([inst('a')]));
    expect(row('a')?.target_state).toBe('up');
    expect(saves.at(-1)).toEqual({});
    stops.shift()!();
    await tick();
    expect(row('a')).toMatchObject({ target_state: 'up', next_action: 'up' });
  });

  it('still comes back down when its manage says so', async () => {
    const { sv, row, stops } = make({ slowStop: true });
    sv.apply(site([inst('a')]));
    await tick();
    sv.apply(site([]));
    sv.apply(site([inst('a', { manage: 'host/down' })]));
    stops.shift()!();
    await tick();
    expect(row('a')).toMatchObject({ target_state: 'down', next_action: 'down' });
  });
});

describe('Supervisor docker rows', () => {
  it('shows docker instances through the inventory, with passive rows, and re-resolves on reapply', async () => {
    let found = false;
    const docker: DockerInventory = {
      resolve: () => (found ? { launch: { kind: 'docker', service: 'ocs-d', composeFile: '/c.yaml', project: 'c' } } : { reason: 'no service "ocs-d"' }),
      passive: (configured) => (configured.has('extra') ? [] : [{ ...row0, instance_id: 'extra', agent_class: '[docker]', target_state: 'passive' }]),
      restartRequired: () => true,
    };
    const { sv, row } = make({ docker });
    sv.apply(site([inst('d', { manage: 'docker/up', launch: null })]));
    expect(row('d')).toMatchObject({ agent_class: 'A[d?]', next_action: '?', reason: 'no service "ocs-d"' });
    expect(row('extra')?.target_state).toBe('passive');
    found = true;
    sv.reapply();
    await tick();
    expect(row('d')).toMatchObject({ agent_class: 'A[d]', next_action: 'up', restart_required: true });
  });
});

const row0 = {
  instance_id: '',
  agent_class: '',
  target_state: '',
  next_action: 'up',
  stability: 1,
  operable: false,
  restart_required: false,
  pid: null,
  reason: '',
  last_exit: null,
  crashes: 0,
  next_start_at: null,
  up_since: null,
};
