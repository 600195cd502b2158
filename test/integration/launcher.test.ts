/**
 * The launcher process with real children: a crash is relaunched by the launcher and that very
 * process is taken up by the child's machine; a child being stopped is never relaunched; and a
 * launcher that dies leaves its children running, watched by pid, with the next launch on a new one.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { logFileFor } from '../../src/hostmanager/process/native-process.js';
import { nodeInstance } from '../helpers/instances.js';
import { makeSupervisor } from '../helpers/supervisor.js';
import { isAlive, waitUntil } from '../helpers/wait.js';

let t: ReturnType<typeof makeSupervisor>;
afterEach(async () => t?.close());

const banners = (id: string) => {
  const file = logFileFor(t.logDir, id);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('--- coxswain ')).length : 0;
};
const parentOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};
/** Live processes started for `id`, whoever started them. */
const processesOf = (id: string) =>
  readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`COX_INSTANCE_ID=${id}`) && isAlive(Number(pid));
      } catch {
        return false;
      }
    });

describe('the launcher (real processes)', () => {
  it('relaunches a crash itself, and the machine takes up that process rather than starting another', async () => {
    const id = `quick-${process.pid}`;
    t = makeSupervisor();
    t.apply([nodeInstance(id, 'sleeper.mjs')]);
    const first = await waitUntil(() => t.state(id)?.pid, 5_000, 'first pid');
    process.kill(first, 'SIGKILL');
    const second = await waitUntil(() => (t.state(id)?.pid !== first ? t.state(id)?.pid : null), 5_000, 'relaunched pid');
    expect(t.state(id)).toMatchObject({ crashes: 1, last_exit: 'killed by SIGKILL' });
    // Give a withdrawn relaunch or a second launch time to show up: neither may.
    await new Promise((r) => setTimeout(r, 300));
    expect(banners(id)).toBe(2);
    expect(processesOf(id)).toEqual([String(second)]);
    expect(parentOf(second)).not.toBe(process.pid);
  });

  it('never relaunches a child that is being stopped', async () => {
    const id = `stopped-${process.pid}`;
    t = makeSupervisor();
    t.apply([nodeInstance(id, 'sleeper.mjs')]);
    for (let round = 1; round <= 3; round++) {
      await waitUntil(() => t.state(id)?.pid, 5_000, `pid in round ${round}`);
      t.supervisor.setTargets([[id, 'down']]);
      await waitUntil(() => processesOf(id).length === 0 && t.state(id)?.pid == null, 5_000, `down in round ${round}`);
      await new Promise((r) => setTimeout(r, 200));
      expect(processesOf(id)).toEqual([]);
      expect(banners(id)).toBe(round);
      t.supervisor.setTargets([[id, 'up']]);
    }
  });

  it('keeps children running when the launcher dies, notices their exit by pid, and launches on a new launcher', async () => {
    const id = `orphan-${process.pid}`;
    t = makeSupervisor();
    t.apply([nodeInstance(id, 'sleeper.mjs')]);
    const pid = await waitUntil(() => t.state(id)?.pid, 5_000, 'pid');
    const launcher = parentOf(pid);
    process.kill(launcher, 'SIGKILL');
    await waitUntil(() => !isAlive(launcher), 5_000, 'the launcher gone');
    await new Promise((r) => setTimeout(r, 200));
    expect(isAlive(pid)).toBe(true);
    expect(t.state(id)?.pid).toBe(pid);

    process.kill(pid, 'SIGKILL');
    const next = await waitUntil(() => (t.state(id)?.pid !== pid ? t.state(id)?.pid : null), 5_000, 'a relaunch after the orphan died');
    expect(t.state(id)?.crashes).toBe(1);
    const newLauncher = parentOf(next);
    expect(newLauncher).not.toBe(launcher);
    expect(isAlive(newLauncher)).toBe(true);
  });
});
