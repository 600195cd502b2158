/** The agent running real processes for a fake controller over real HTTP. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeController, type FakeController } from '../helpers/agent-fake-controller.js';
import { agentToml, AGENT_FIXTURES, intervals, nodeJob, runAgent, tempDir, treePids } from '../helpers/agent-harness.js';
import { isAlive, waitUntil } from '../helpers/wait.js';

let fake: FakeController;
beforeEach(async () => {
  fake = await startFakeController();
});
afterEach(async () => {
  expect(fake.refused).toEqual([]);
  await fake.close();
});

describe('agent jobs', () => {
  it('announces itself, then runs execute with stdin, env and cwd, parsing levels into the result', async () => {
    const dir = tempDir();
    runAgent(dir, agentToml(fake.url));
    await waitUntil(() => fake.events.length > 0, 5000, 'the startup event');
    expect(fake.events[0]).toMatchObject({ name: 'startup', gid: 1, nid: 10, roles: ['storage'] });
    fake.offer(nodeJob('exec-1', 'levels.mjs', [], { working_dir: dir, env: { COX_TEST_VAR: 'from-job' } }, { data: 'hello on stdin' }));
    const r = await fake.final('exec-1');
    expect(r).toMatchObject({ id: 'exec-1', gid: 1, nid: 10, cmd: 'execute', state: 'SUCCESS', level: 20, critical: 'disk almost full' });
    expect(JSON.parse(r.data)).toEqual({ stdin: 'hello on stdin', cwd: dir, env: 'from-job', argv: [] });
    expect(r.streams[0]).toContain('plain stdout\n3::public message\n');
    expect(r.streams[1]).toBe('plain stderr\n');
    expect(fake.acks).toEqual([{ id: 'exec-1', ok: true }]);
    expect(fake.polls[0]).toMatchObject({ path: '/1/10/cmd', roles: ['storage'], max: 100 });
  });

  it('answers UNKNOWN_CMD, and ERROR for a binary that does not exist or bad arguments', async () => {
    runAgent(tempDir(), agentToml(fake.url));
    fake.offer({ id: 'u1', cmd: 'frobnicate' });
    fake.offer({ id: 'e1', cmd: 'execute', args: { name: '/nonexistent/binary' } });
    fake.offer(nodeJob('e2', 'levels.mjs', [], { loglevels_db: 'x' }));
    fake.offer(nodeJob('e3', 'levels.mjs', [], { working_dir: '/nonexistent/dir' }));
    expect(await fake.final('u1')).toMatchObject({ state: 'UNKNOWN_CMD', critical: 'unknown command "frobnicate"' });
    expect(await fake.final('e1')).toMatchObject({ state: 'ERROR', critical: expect.stringContaining('cannot start /nonexistent/binary: spawn /nonexistent/binary ENOENT') });
    expect(await fake.final('e2')).toMatchObject({ state: 'ERROR', critical: 'args.loglevels_db: "x" is not a level or a range of levels' });
    expect(await fake.final('e3')).toMatchObject({ state: 'ERROR', critical: 'working directory /nonexistent/dir does not exist' });
  });

  it('runs jobs of one queue one after another, and others beside them', async () => {
    const dir = tempDir();
    const log = join(dir, 'spans.log');
    runAgent(dir, agentToml(fake.url));
    for (const tag of ['q1', 'q2', 'q3']) fake.offer(nodeJob(tag, 'sleep.mjs', ['300', log, tag], { queue: 'serial' }));
    fake.offer(nodeJob('free', 'sleep.mjs', ['300', log, 'free']));
    for (const id of ['q1', 'q2', 'q3', 'free']) expect((await fake.final(id)).state).toBe('SUCCESS');
    const s = intervals(log);
    expect(s.get('q2')!.start).toBeGreaterThanOrEqual(s.get('q1')!.end);
    expect(s.get('q3')!.start).toBeGreaterThanOrEqual(s.get('q2')!.end);
    expect(s.get('free')!.start).toBeLessThan(s.get('q1')!.end);
  });

  it('runs at most max_jobs at once, asking each poll for no more offers than its free slots (none when full)', async () => {
    const dir = tempDir();
    const log = join(dir, 'spans.log');
    runAgent(dir, agentToml(fake.url, { main: 'max_jobs = 2' }));
    const tags = ['m1', 'm2', 'm3', 'm4', 'm5'];
    for (const tag of tags) fake.offer(nodeJob(tag, 'sleep.mjs', ['250', log, tag]));
    for (const tag of tags) expect((await fake.final(tag)).state).toBe('SUCCESS');
    const spans = [...intervals(log).values()];
    const mostAtOnce = Math.max(...spans.map((a) => spans.filter((b) => b.start <= a.start && a.start < b.end).length));
    expect(mostAtOnce).toBe(2);
    expect(fake.polls.every((p) => p.max !== undefined && p.max >= 0 && p.max <= 2)).toBe(true);
    expect(Math.max(...fake.polls.map((p) => p.offered))).toBe(2);
    // Full, it went on polling, for urgent jobs only, and took no job to queue for a slot.
    expect(fake.polls.some((p) => p.max === 0)).toBe(true);
  });

  it('kills the whole group at max_time: TIMEOUT, grandchild included, even if SIGTERM is ignored', async () => {
    const dir = tempDir();
    runAgent(dir, agentToml(fake.url));
    const pidFile = join(dir, 'tree.pids');
    fake.offer(nodeJob('slow', 'tree.mjs', [pidFile, '--ignore-term'], { max_time: 1 }));
    const pids = await waitUntil(() => treePids(pidFile), 5000, 'the process tree');
    const r = await fake.final('slow');
    expect(r).toMatchObject({ state: 'TIMEOUT', streams: ['tree running\n', ''] });
    expect(r.time).toBeGreaterThanOrEqual(1000);
    await waitUntil(() => pids.every((p) => !isAlive(p)), 2000, 'the group to die');
  });

  it('kill ends a running job KILLED with its group; killall ends the rest', async () => {
    const dir = tempDir();
    runAgent(dir, agentToml(fake.url, { main: 'max_jobs = 1' }));
    const pidFile = join(dir, 'tree.pids');
    fake.offer(nodeJob('victim', 'tree.mjs', [pidFile]));
    fake.offer(nodeJob('queued', 'tree.mjs', [join(dir, 'never.pids')]));
    const pids = await waitUntil(() => treePids(pidFile), 5000, 'the process tree');
    fake.offer({ id: 'k1', cmd: 'kill', args: { id: 'victim' } }, { urgent: true });
    expect(await fake.final('k1')).toMatchObject({ state: 'SUCCESS', data: '{"killed":"victim"}', level: 20 });
    expect((await fake.final('victim')).state).toBe('KILLED');
    await waitUntil(() => pids.every((p) => !isAlive(p)), 3000, 'the group to die');
    const second = await waitUntil(() => treePids(join(dir, 'never.pids')), 5000, 'the queued job to start');
    fake.offer({ id: 'k2', cmd: 'killall' }, { urgent: true });
    expect(await fake.final('k2')).toMatchObject({ state: 'SUCCESS', data: '{"killed":1}' });
    expect((await fake.final('queued')).state).toBe('KILLED');
    await waitUntil(() => second.every((p) => !isAlive(p)), 3000, 'the second group to die');
    fake.offer({ id: 'k3', cmd: 'kill', args: { id: 'nobody' } });
    expect(await fake.final('k3')).toMatchObject({ state: 'ERROR', critical: 'job nobody on this agent not found' });
  });

  it('restarts a failing job up to max_restart times', async () => {
    const dir = tempDir();
    runAgent(dir, agentToml(fake.url));
    fake.offer(nodeJob('flaky', 'fail-until.mjs', [join(dir, 'flaky.count'), '3'], { max_restart: 5 }));
    fake.offer(nodeJob('broken', 'fail-until.mjs', [join(dir, 'broken.count'), '99'], { max_restart: 2 }));
    expect(await fake.final('flaky')).toMatchObject({ state: 'SUCCESS', data: '3' });
    expect(await fake.final('broken')).toMatchObject({ state: 'ERROR', data: '3' });
    expect(fake.results.get('flaky')).toHaveLength(1);
    expect(readFileSync(join(dir, 'broken.count'), 'utf8')).toBe('3');
  });

  it('reruns a recurring job, reporting each run as progress until it is killed', async () => {
    const dir = tempDir();
    runAgent(dir, agentToml(fake.url));
    fake.offer(nodeJob('tick', 'fail-until.mjs', [join(dir, 'tick.count'), '0'], { recurring_period: 0.2 }));
    await fake.result('tick', (r) => r.data === '3');
    expect(fake.results.get('tick')!.slice(0, 3).map((r) => [r.state, r.data])).toEqual([
      ['RUNNING', '1'],
      ['RUNNING', '2'],
      ['RUNNING', '3'],
    ]);
    fake.offer({ id: 'stop-tick', cmd: 'kill', args: { id: 'tick' } });
    expect((await fake.final('tick')).state).toBe('KILLED');
  });

  it('acks a re-offered job again without rerunning it (DUPLICATE_ID once it was reported), and does not run a job whose lease expired', async () => {
    const dir = tempDir();
    const log = join(dir, 'spans.log');
    runAgent(dir, agentToml(fake.url));
    fake.offer(nodeJob('once', 'sleep.mjs', ['10', log, 'once']));
    await fake.final('once');
    fake.offer(nodeJob('once', 'sleep.mjs', ['10', log, 'once']));
    fake.expireLeases.add('late');
    fake.offer(nodeJob('late', 'sleep.mjs', ['10', log, 'late']));
    fake.offer({ id: 'after', cmd: 'ping' });
    await fake.final('after');
    expect(fake.acks).toEqual([
      { id: 'once', ok: true },
      { id: 'once', ok: true },
      { id: 'late', ok: false },
      { id: 'after', ok: true },
    ]);
    expect(readFileSync(log, 'utf8').match(/^start/gm)).toHaveLength(1);
    await fake.result('once', (r) => r.state === 'DUPLICATE_ID');
    expect(fake.results.get('once')!.map((r) => r.state)).toEqual(['SUCCESS', 'DUPLICATE_ID']);
    expect(fake.results.has('late')).toBe(false);
  });

  it('runs [cmds.X] extensions with {key} arguments, and jumpscripts by hash', async () => {
    const dir = tempDir();
    const ext = `[cmds.echo]\nbinary = "${process.execPath}"\ncwd = "${AGENT_FIXTURES}"\nargs = ["levels.mjs", "{who}", "{n}"]\nenv = { COX_TEST_VAR = "from-section" }\n`;
    const { config } = runAgent(dir, agentToml(fake.url, { rest: ext }));
    fake.offer({ id: 'x1', cmd: 'echo', args: { who: 'world', n: 3 } });
    fake.offer({ id: 'x2', cmd: 'echo', args: { who: 'world' } });
    expect(JSON.parse((await fake.final('x1')).data)).toEqual({ stdin: '', cwd: AGENT_FIXTURES.replace(/\/$/, ''), env: 'from-section', argv: ['world', '3'] });
    expect(await fake.final('x2')).toMatchObject({ state: 'ERROR', critical: 'args.n: required by the arguments of [cmds.echo]' });

    const script = 'read line\necho "20::got $line"\n';
    const hash = createHash('sha256').update(script).digest('hex');
    fake.scripts.set(hash, script);
    fake.offer({ id: 'js1', cmd: 'jumpscript', args: { organization: 'lab', name: 'hello', hash, ext: '.sh' }, data: 'abc\n' });
    expect(await fake.final('js1')).toMatchObject({ state: 'SUCCESS', data: 'got abc', level: 20 });
    expect(existsSync(join(config.stateDir, 'jumpscript-cache', `${hash}.sh`))).toBe(true);
    fake.scripts.set('0'.repeat(64), 'echo tampered');
    fake.offer({ id: 'js2', cmd: 'jumpscript', args: { hash: '0'.repeat(64), ext: 'sh' } });
    expect(await fake.final('js2')).toMatchObject({ state: 'ERROR', critical: expect.stringContaining('whose sha256 is') });
  });

  it('answers the built-ins', async () => {
    const dir = tempDir();
    const onRestart = vi.fn();
    runAgent(dir, agentToml(fake.url), { onRestart });
    const pidFile = join(dir, 'tree.pids');
    fake.offer(nodeJob('busy', 'tree.mjs', [pidFile]));
    await waitUntil(() => treePids(pidFile), 5000, 'the process tree');
    for (const cmd of ['ping', 'get_process_stats', 'get_cpu_info', 'get_mem_info', 'get_disk_info', 'get_nic_info', 'get_os_info']) fake.offer({ id: cmd, cmd });
    const data = async (id: string) => JSON.parse((await fake.final(id)).data) as unknown;
    expect(await data('ping')).toBe('pong');
    expect(await data('get_process_stats')).toEqual([expect.objectContaining({ id: 'busy', cmd: 'execute', processes: 2, rss: expect.any(Number) })]);
    expect(await data('get_cpu_info')).toMatchObject({ count: expect.any(Number), threads_per_core: expect.any(Number) });
    expect(await data('get_mem_info')).toMatchObject({ total: expect.any(Number), available: expect.any(Number) });
    expect(await data('get_disk_info')).toContainEqual(expect.objectContaining({ mountpoint: '/', total: expect.any(Number) }));
    expect(await data('get_nic_info')).toContainEqual(expect.objectContaining({ name: 'lo' }));
    expect(await data('get_os_info')).toMatchObject({ platform: 'linux' });
    fake.offer({ id: 'rs', cmd: 'restart' });
    expect(await data('rs')).toBe('restarting');
    await waitUntil(() => onRestart.mock.calls.length === 1, 5000, 'the restart hook');
    expect((await fake.final('busy')).state).toBe('KILLED');
  });
});
