import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { logFileFor } from '../../src/hostmanager/process/native-process.js';
import { nodeInstance } from '../helpers/instances.js';
import { makeSupervisor } from '../helpers/supervisor.js';
import { isAlive, waitUntil } from '../helpers/wait.js';

let t: ReturnType<typeof makeSupervisor>;
afterEach(async () => t?.close());

const fast = { stableAfterMs: 100, baseDelayMs: 50, maxDelayMs: 200, jitter: 0 };
const grandchildOf = (logDir: string, id: string) =>
  Number(/grandchild (\d+)/.exec(readFileSync(logFileFor(logDir, id), 'utf8'))?.[1] ?? NaN);

describe('native children (real processes)', () => {
  it('relaunches a crashed child at once and reports why it exited', async () => {
    t = makeSupervisor();
    t.apply([nodeInstance('crashy', 'crasher.mjs', ['3', '300'], { restart: fast })]);
    const first = await waitUntil(() => t.state('crashy')?.pid, 5_000, 'first pid');
    const relaunched = await waitUntil(() => (t.state('crashy')!.crashes >= 1 ? t.state('crashy') : null), 5_000, 'relaunch');
    expect(relaunched.last_exit).toBe('exited with code 3');
    expect(relaunched.reason).toMatch(/exited with code 3 after a stable run of 0\.\d s; relaunched at once|running \(pid \d+\)/);
    const second = await waitUntil(() => t.state('crashy')?.pid, 5_000, 'second pid');
    expect(second).not.toBe(first);
    expect(isAlive(first)).toBe(false);
    expect(t.state('crashy')!.stability).toBeLessThan(1);
  });

  it('writes the child output to its log file', async () => {
    t = makeSupervisor();
    t.apply([nodeInstance('sleepy', 'sleeper.mjs')]);
    const log = logFileFor(t.logDir, 'sleepy');
    await waitUntil(() => existsSync(log) && readFileSync(log, 'utf8').includes('ready'), 5_000, 'ready in log');
    expect(readFileSync(logFileFor(t.logDir, 'sleepy'), 'utf8')).toMatch(/^--- coxswain .* launching: .*sleeper\.mjs\nready\n/);
  });

  it('down kills the whole process group, grandchild included', async () => {
    t = makeSupervisor();
    t.apply([nodeInstance('forky', 'forker.mjs')]);
    const pid = await waitUntil(() => t.state('forky')?.pid, 5_000, 'pid');
    const grandchild = await waitUntil(() => grandchildOf(t.logDir, 'forky'), 5_000, 'grandchild pid');
    expect(isAlive(grandchild)).toBe(true);
    t.supervisor.setTargets([['forky', 'down']]);
    await waitUntil(() => t.state('forky')?.next_action === 'down', 5_000, 'down');
    await waitUntil(() => !isAlive(pid) && !isAlive(grandchild), 2_000, 'group gone');
  });

  it('escalates to SIGKILL after the grace time for a child that ignores SIGTERM, and its grandchild dies too', async () => {
    t = makeSupervisor();
    t.apply([nodeInstance('stubborn', 'forker.mjs', ['--ignore-term'], { stopGraceMs: 700 })]);
    const pid = await waitUntil(() => t.state('stubborn')?.pid, 5_000, 'pid');
    const grandchild = await waitUntil(() => grandchildOf(t.logDir, 'stubborn'), 5_000, 'grandchild pid');
    const began = Date.now();
    t.supervisor.setTargets([['stubborn', 'down']]);
    await waitUntil(() => t.state('stubborn')?.next_action === 'wait_dead', 1_000, 'wait_dead');
    await waitUntil(() => t.state('stubborn')?.next_action === 'down', 5_000, 'down');
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(650);
    expect(took).toBeLessThan(3_000);
    expect(isAlive(pid)).toBe(false);
    expect(isAlive(grandchild)).toBe(false);
    expect(t.state('stubborn')!.last_exit).toBe('killed by SIGKILL');
  });

  it('kills grandchildren left behind when a child crashes', async () => {
    t = makeSupervisor();
    t.apply([nodeInstance('forky', 'forker.mjs', [], { restart: { ...fast, baseDelayMs: 60_000, maxDelayMs: 60_000 } })]);
    const pid = await waitUntil(() => t.state('forky')?.pid, 5_000, 'pid');
    const grandchild = await waitUntil(() => grandchildOf(t.logDir, 'forky'), 5_000, 'grandchild pid');
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => !isAlive(grandchild), 2_000, 'grandchild gone');
  });

  it('shows a command that does not exist as failing to start, and backs off', async () => {
    t = makeSupervisor();
    const bad = nodeInstance('ghost', 'sleeper.mjs');
    bad.launch = { ...bad.launch!, argv: ['/nonexistent/agent'] };
    t.apply([bad]);
    const s = await waitUntil(() => (t.state('ghost')?.next_action === 'start_at' ? t.state('ghost') : null), 5_000, 'start_at');
    expect(s.reason).toMatch(/^failed to start: \/nonexistent\/agent: spawn \/nonexistent\/agent ENOENT; retrying in 60 s$/);
  });

  it('names a missing working directory rather than the command', async () => {
    t = makeSupervisor();
    const bad = nodeInstance('lost', 'sleeper.mjs');
    bad.launch = { ...bad.launch!, cwd: '/nonexistent/dir' };
    t.apply([bad]);
    const s = await waitUntil(() => (t.state('lost')?.next_action === 'start_at' ? t.state('lost') : null), 5_000, 'start_at');
    expect(s.reason).toBe('failed to start: working directory /nonexistent/dir does not exist; retrying in 60 s');
  });
});
