/** What the agent keeps and reports besides results: history, message ids, loggers, stats, startup tasks. */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { History } from '../../src/agent/jobs/history.js';
import type { LogMessage } from '../../src/protocol/job.js';
import { startFakeController, type FakeController } from '../helpers/agent-fake-controller.js';
import { agentToml, AGENT_FIXTURES, nodeJob, runAgent, tempDir, treePids } from '../helpers/agent-harness.js';
import { isAlive, waitUntil } from '../helpers/wait.js';

let fake: FakeController;
beforeEach(async () => {
  fake = await startFakeController();
});
afterEach(async () => {
  expect(fake.refused).toEqual([]);
  await fake.close();
});

const DB = '[logging.db]\ntype = "DB"\nlog_dir = "./logs"\n';

async function messages(id: string, args: Record<string, unknown>): Promise<LogMessage[]> {
  fake.offer({ id, cmd: 'get_msgs', args });
  const r = await fake.final(id);
  expect(r.state).toBe('SUCCESS');
  return JSON.parse(r.data) as LogMessage[];
}

describe('agent state across restarts', () => {
  it('reruns a long-running job after a restart and forgets it once killed; seen ids survive', async () => {
    const dir = tempDir();
    const text = agentToml(fake.url);
    const first = runAgent(dir, text);
    const pidFile = join(dir, 'tree.pids');
    fake.offer(nodeJob('daemon', 'tree.mjs', [pidFile], { max_time: -1 }));
    const before = await waitUntil(() => treePids(pidFile), 5000, 'the first run');
    await first.agent.stop();
    // SIGKILL is sent to the group before stop() resolves; the kernel reaps it a moment later.
    await waitUntil(() => before.every((p) => !isAlive(p)), 2000, 'the first run to die');
    expect(fake.results.has('daemon')).toBe(false);

    runAgent(dir, text);
    const after = await waitUntil(() => {
      const pids = treePids(pidFile);
      return pids && pids[0] !== before[0] ? pids : null;
    }, 5000, 'the rerun after restart');
    fake.offer(nodeJob('daemon', 'tree.mjs', [pidFile], { max_time: -1 }));
    fake.offer({ id: 'kill-daemon', cmd: 'kill', args: { id: 'daemon' } });
    expect((await fake.final('daemon')).state).toBe('KILLED');
    expect(fake.acks.filter((a) => a.id === 'daemon')).toEqual([
      { id: 'daemon', ok: true },
      { id: 'daemon', ok: true },
    ]);
    await waitUntil(() => after.every((p) => !isAlive(p)), 3000, 'the rerun to die');
    const history = new History(join(dir, '.history'));
    expect([history.longRunning(), history.hasSeen('daemon')]).toEqual([[], true]);
    history.close();
  });

  it('continues message ids after a restart and answers get_msgs from the DB logger', async () => {
    const dir = tempDir();
    const text = agentToml(fake.url, { rest: DB });
    const first = runAgent(dir, text);
    fake.offer(nodeJob('talk-1', 'levels.mjs'));
    await fake.final('talk-1');
    const old = await messages('q1', { id: 'talk-1' });
    // stdout and stderr interleave as the OS delivers them: compare by level.
    expect(old.map((m) => [m.level, m.message]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [1, 'plain stdout'],
      [2, 'plain stderr'],
      [3, 'public message'],
      [4, 'operator line 1\noperator line 2'],
      [9, 'disk almost full'],
      [10, 'jobs.done:1|c'],
      [10, 'temp:21|g'],
      [20, expect.stringContaining('"stdin":""')],
    ]);
    expect(old.map((m) => m.mid)).toEqual([...old.map((m) => m.mid)].sort((a, b) => a - b));
    expect(await messages('q2', { id: 'talk-1', levels: '3-4,9', limit: 2 })).toMatchObject([{ level: 4 }, { level: 9 }]);
    await first.agent.stop();

    runAgent(dir, text);
    fake.offer(nodeJob('talk-2', 'levels.mjs'));
    await fake.final('talk-2');
    const fresh = await messages('q3', { id: 'talk-2', levels: '*' });
    expect(Math.min(...fresh.map((m) => m.mid))).toBeGreaterThan(Math.max(...old.map((m) => m.mid)));
    expect((await messages('q4', { id: 'talk-1' })).map((m) => m.mid)).toEqual(old.map((m) => m.mid));
  });

  it('sends AC logs in batches filtered by loglevels_ac, and writes console lines', async () => {
    const dir = tempDir();
    const rest = '[logging.ac]\ntype = "AC"\nflush_int = 0.3\nbatch_size = 2\nlevels = [2]\n\n[logging.console]\ntype = "console"\nlevels = [9]\n';
    const { lines } = runAgent(dir, agentToml(fake.url, { rest }));
    fake.offer(nodeJob('ac-default', 'levels.mjs', [], { loglevels_db: '1-30' }));
    fake.offer(nodeJob('ac-override', 'levels.mjs', [], { loglevels_ac: '3,9' }));
    fake.offer(nodeJob('ac-gated', 'levels.mjs', [], { loglevels: '1,3', loglevels_ac: '3,9' }));
    await Promise.all(['ac-default', 'ac-override', 'ac-gated'].map((id) => fake.final(id)));
    await waitUntil(() => fake.logs.length >= 4, 5000, 'the AC batches');
    const of = (id: string) => fake.logs.filter((m) => m.id === id).map((m) => [m.level, m.message]);
    expect(of('ac-default')).toEqual([[2, 'plain stderr']]);
    expect(of('ac-override')).toEqual([
      [3, 'public message'],
      [9, 'disk almost full'],
    ]);
    expect(of('ac-gated')).toEqual([[3, 'public message']]);
    expect(Math.max(...fake.logBatches)).toBeLessThanOrEqual(2);
    expect(lines.filter((l) => l.job === 'ac-default')).toEqual([expect.objectContaining({ level: 9, msg: 'disk almost full', mid: expect.any(Number) })]);
  });

  it('flushes statsd lines and job cpu/memory to the controller', async () => {
    const dir = tempDir();
    runAgent(dir, agentToml(fake.url, { rest: '[stats]\ninterval = 0.4\n' }));
    const pidFile = join(dir, 'tree.pids');
    fake.offer(nodeJob('measured', 'tree.mjs', [pidFile]));
    fake.offer(nodeJob('counting', 'levels.mjs'));
    await fake.final('counting');
    const series = await waitUntil(() => {
      const all = new Map(fake.stats.flatMap((b) => b.series));
      return all.has('jobs.done') && all.has('job.measured.rss') ? all : null;
    }, 5000, 'stats with statsd lines and job measurements');
    expect(series.get('jobs.done')).toBe(1);
    expect(series.get('temp')).toBe(21);
    expect(series.get('job.measured.rss')).toBeGreaterThan(1_000_000);
    expect(series.get('job.measured.cpu')).toBeGreaterThanOrEqual(0);
    expect(fake.stats.every((b) => typeof b.timestamp === 'number')).toBe(true);
  });

  it('runs startup tasks once at start under their section name, queryable by that id', async () => {
    const dir = tempDir();
    const rest = `${DB}\n[startup.init]\nname = "execute"\n[startup.init.args]\nname = "${process.execPath}"\nargs = ["${AGENT_FIXTURES}levels.mjs"]\nloglevels_db = "9"\n`;
    runAgent(dir, agentToml(fake.url, { rest }));
    let found: string[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      found = (await messages(`q-init-${i}`, { id: 'init' })).map((m) => m.message);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toEqual(['disk almost full']);
    // No controller dispatched it, so none is sent its result.
    expect(fake.results.get('init')).toBeUndefined();
  });
});
