/**
 * Which targets a host manager keeps (targets.json) and which it takes from `manage`, with real
 * processes: an instance removed from the SCF and put back, `--initial-state`, and the reason a
 * crash-looping child shows once told down.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, scfText, sleepers, startDaemon, startDaemonIn, type Daemon } from '../helpers/daemon.js';
import { FIXTURES } from '../helpers/instances.js';
import { waitUntil } from '../helpers/wait.js';

let d: Daemon | undefined;
afterEach(async () => {
  await d?.stop();
  d = undefined;
});

const node = JSON.stringify(process.execPath);
/** Ignores SIGTERM, so it stays in wait_dead until SIGKILL after `stop-timeout`. */
const stubborn = (id: string) => `{agent-class: Stubborn, instance-id: ${id}, command: [${node}, ${JSON.stringify(FIXTURES + 'ignore-term.mjs')}], stop-timeout: 3}`;
const crasher = (id: string) =>
  `{agent-class: Crasher, instance-id: ${id}, command: [${node}, ${JSON.stringify(FIXTURES + 'crasher.mjs')}], restart: {backoff-base: 30, jitter: 0}}`;

const states = async (): Promise<Record<string, any>> => Object.fromEntries((await api(d!, 'GET', '/api/children')).json.children.map((c: any) => [c.instance_id, c]));
const waitStates = (until: (s: Record<string, any>) => boolean, what: string, timeoutMs = 10_000) =>
  waitUntil(async () => {
    const s = await states();
    return until(s) ? s : null;
  }, timeoutMs, what);
const savedTargets = () => {
  const file = join(d!.dir, 'state', 'targets.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
};

/** SIGTERMs the host manager and starts another on the same SCF and state dir. */
async function restart(args: string[] = []): Promise<void> {
  const { dir } = d!;
  d!.proc.kill('SIGTERM');
  expect(await d!.exited).toBe(0);
  d = await startDaemonIn(dir, args);
}

describe('an instance removed from the SCF and put back', () => {
  it('forgets the target set by update, in targets.json too, so a restart does not bring it back', async () => {
    d = await startDaemon(scfText(sleepers(['a', 'b'])));
    await waitStates((s) => s.a?.next_action === 'up', 'a up');
    await api(d, 'POST', '/api/ops/update/start', { requests: [['a', 'down']] });
    await waitStates((s) => s.a.next_action === 'down', 'a down');
    expect(savedTargets()).toEqual({ a: 'down' });

    writeFileSync(d.scf, scfText(sleepers(['b'])));
    await waitStates((s) => !('a' in s), 'a dropped');
    expect(savedTargets()).toEqual({});
    writeFileSync(d.scf, scfText(sleepers(['a', 'b'])));
    await waitStates((s) => s.a?.next_action === 'up', 'a back up, from manage');

    await restart();
    const after = await waitStates((s) => s.a?.next_action === 'up' && s.b?.next_action === 'up', 'a and b up after the restart');
    expect(after.a.target_state).toBe('up');
  }, 40_000);

  it('takes its target from manage when put back while it is still stopping', async () => {
    d = await startDaemon(scfText([stubborn('a'), ...sleepers(['b'])]));
    const before = await waitStates((s) => s.a?.next_action === 'up', 'a up');
    writeFileSync(d.scf, scfText(sleepers(['b'])));
    await waitStates((s) => s.a?.next_action === 'wait_dead', 'a stopping');
    writeFileSync(d.scf, scfText([stubborn('a'), ...sleepers(['b'])]));
    const readded = await waitStates((s) => s.a?.target_state === 'up', 'a wanted up again', 2_500);
    expect(readded.a.next_action).toBe('wait_dead');
    const after = await waitStates((s) => s.a.next_action === 'up', 'a relaunched once stopped');
    expect(after.a.pid).not.toBe(before.a.pid);
    expect(savedTargets()).toEqual({});
  }, 30_000);
});

describe('--initial-state', () => {
  it('forces the starting targets of that run only', async () => {
    d = await startDaemon(scfText(sleepers(['d'], 'host/down')), ['--initial-state', 'up']);
    await waitStates((s) => s.d?.next_action === 'up', 'd up from --initial-state');
    expect(savedTargets()).toEqual({});
    await restart();
    const after = await waitStates((s) => s.d !== undefined, 'd listed');
    expect([after.d.target_state, after.d.next_action]).toEqual(['down', 'down']);
    expect(savedTargets()).toEqual({});
  }, 30_000);
});

describe('a crash-looping child told down', () => {
  it('says it was stopped on request, not when it would have been relaunched', async () => {
    d = await startDaemon(scfText([crasher('c')]));
    const looping = await waitStates((s) => s.c?.next_action === 'start_at', 'c in backoff');
    expect(looping.c.reason).toMatch(/relaunch in 30 s$/);
    await api(d, 'POST', '/api/ops/update/start', { requests: [['c', 'down']] });
    const down = await waitStates((s) => s.c.next_action === 'down', 'c down');
    expect(down.c.reason).toBe('stopped on request');
    expect(down.c.last_exit).toBe('exited with code 1');
  });
});
