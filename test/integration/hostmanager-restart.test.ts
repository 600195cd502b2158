import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, scfText, sleepers, startDaemon, startDaemonIn, type Daemon } from '../helpers/daemon.js';
import { isAlive, waitUntil } from '../helpers/wait.js';

const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

const ids = Array.from({ length: 20 }, (_, i) => `n${String(i).padStart(2, '0')}`);
const states = async (d: Daemon): Promise<Record<string, any>> =>
  Object.fromEntries(((await api(d, 'GET', '/api/children')).json.children as any[]).map((c) => [c.instance_id, c]));
const launches = (d: Daemon, id: string) => (readFileSync(join(d.dir, 'logs', `${id}.log`), 'utf8').match(/^--- coxswain .* launching:/gm) ?? []).length;
/** Pids of every process that carries the marker of this daemon's state dir, i.e. our children. */
const markedPids = (d: Daemon) => {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').map(Number).filter(Number.isInteger)) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`COX_STATE_DIR=${join(d.dir, 'state')}`)) out.push(pid);
    } catch {
      /* gone */
    }
  }
  return out.sort();
};

describe('host manager restarts', () => {
  it('re-attaches 20 native children after SIGKILL: same pids, no duplicate, no orphan, targets kept', async () => {
    const first = await startDaemon(scfText([...sleepers(ids), ...sleepers(['off'], 'host/down')]));
    daemons.push(first);
    await waitUntil(async () => Object.values(await states(first)).filter((c) => c.next_action === 'up').length === 20, 15_000, '20 up');
    // An update target that differs from manage must survive the restart.
    await api(first, 'POST', '/api/ops/update/start', { requests: [['n00', 'down'], ['off', 'up']] });
    await waitUntil(async () => {
      const s = await states(first);
      return s.n00.next_action === 'down' && s.off.next_action === 'up';
    }, 10_000, 'update applied');
    const before = await states(first);
    const pidsBefore = markedPids(first);
    expect(pidsBefore).toHaveLength(20);

    first.proc.kill('SIGKILL');
    await first.exited;
    for (const c of Object.values(before)) if (c.pid) expect(isAlive(c.pid)).toBe(true);

    const began = Date.now();
    const second = await startDaemonIn(first.dir);
    daemons.push({ ...second, stop: async () => (await second.stop(), rmSync(first.dir, { recursive: true, force: true }), null) });
    const after = await waitUntil(async () => {
      const s = await states(second);
      return Object.values(s).filter((c) => c.next_action === 'up').length === 20 ? s : null;
    }, 10_000, 're-attached');
    const reattachMs = Date.now() - began;
    for (const id of [...ids.slice(1), 'off']) {
      expect(after[id].pid, id).toBe(before[id].pid);
      expect(after[id].reason, id).toBe(`re-attached (pid ${before[id].pid})`);
      expect(launches(second, id), id).toBe(1);
    }
    expect(after.n00).toMatchObject({ target_state: 'down', next_action: 'down' });
    expect(after.off.target_state).toBe('up');
    expect(markedPids(second)).toEqual(pidsBefore);
    console.info(`re-attach of 20 children: ${reattachMs} ms from start to all up`);

    // A re-attached child that dies is noticed and relaunched as our own child.
    process.kill(after.n05.pid, 'SIGKILL');
    const relaunched = await waitUntil(async () => {
      const c = (await states(second)).n05;
      return c.next_action === 'up' && c.pid !== after.n05.pid ? c : null;
    }, 5_000, 'n05 relaunched');
    expect(relaunched.last_exit).toBe('exited (status unknown: re-attached process)');
    expect(launches(second, 'n05')).toBe(2);
  });

  it('terminates a child of the previous run that is no longer in the SCF', async () => {
    const first = await startDaemon(scfText(sleepers(['keep', 'drop'])));
    daemons.push(first);
    await waitUntil(async () => Object.values(await states(first)).every((c) => c.next_action === 'up'), 10_000, 'up');
    const { drop } = await states(first);
    first.proc.kill('SIGKILL');
    await first.exited;
    writeFileSync(first.scf, scfText(sleepers(['keep'])));
    const second = await startDaemonIn(first.dir);
    daemons.push(second);
    await waitUntil(() => !isAlive(drop.pid), 5_000, 'dropped child terminated');
    expect(Object.keys(await states(second))).toEqual(['keep']);
  });
});

describe('targets across a graceful restart', () => {
  it('restores targets set by update, and --initial-state still overrides them', async () => {
    const first = await startDaemon(scfText([...sleepers(['a']), ...sleepers(['b'], 'host/down')]));
    daemons.push(first);
    await api(first, 'POST', '/api/ops/update/start', { requests: [['a', 'down'], ['b', 'up']] });
    await waitUntil(async () => (await states(first)).b?.next_action === 'up', 10_000, 'b up');
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startDaemonIn(first.dir);
    daemons.push(second);
    const restored = await waitUntil(async () => {
      const s = await states(second);
      return s.b?.next_action === 'up' && s.a?.next_action === 'down' ? s : null;
    }, 10_000, 'targets restored');
    expect([restored.a.target_state, restored.b.target_state]).toEqual(['down', 'up']);
    second.proc.kill('SIGTERM');
    await second.exited;

    const third = await startDaemonIn(first.dir, ['--initial-state', 'up']);
    daemons.push({ ...third, stop: async () => (await third.stop(), rmSync(first.dir, { recursive: true, force: true }), null) });
    await waitUntil(async () => {
      const s = await states(third);
      return s.a?.next_action === 'up' && s.b?.next_action === 'up';
    }, 10_000, 'initial-state up wins');
  });
});
