import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/instances.js';
import { api, ocsCall, scfText, sleepers, startDaemon, type Daemon } from '../helpers/daemon.js';
import { isAlive, waitUntil } from '../helpers/wait.js';

let d: Daemon | undefined;
afterEach(async () => {
  await d?.stop();
  d = undefined;
});

const children = async (daemon: Daemon) => (await api(daemon, 'GET', '/api/children')).json.children as any[];
const byId = async (daemon: Daemon): Promise<Record<string, any>> => Object.fromEntries((await children(daemon)).map((c) => [c.instance_id, c]));
const settled = (daemon: Daemon, want: Record<string, string>) =>
  waitUntil(async () => {
    const now = await byId(daemon);
    return Object.entries(want).every(([id, action]) => now[id]?.next_action === action) ? now : null;
  }, 10_000, JSON.stringify(want));

async function update(daemon: Daemon, params: object) {
  const started = await api(daemon, 'POST', '/api/ops/update/start', params);
  expect(started.json.code).toBe(0);
  return (await api(daemon, 'POST', '/api/ops/update/wait', { timeout: 10 })).json;
}

describe('host manager daemon (real processes, real HTTP)', () => {
  it('starts every child as its manage value says, and supervises them', async () => {
    d = await startDaemon(scfText([...sleepers(['a', 'b']), ...sleepers(['c'], 'host/down')]));
    const now = await settled(d, { a: 'up', b: 'up', c: 'down' });
    expect(isAlive(now.a.pid)).toBe(true);
    expect(now.c).toMatchObject({ target_state: 'down', pid: null, agent_class: 'Sleeper', stability: 1 });
  });

  it('applies update requests in order, with all', async () => {
    d = await startDaemon(scfText(sleepers(['a', 'b', 'c'], 'host/down')));
    await settled(d, { a: 'down', b: 'down', c: 'down' });
    const done = await update(d, { requests: [['all', 'up'], ['b', 'down']] });
    expect(done.message).toBe('Operation "update" is currently not running (SUCCEEDED).');
    const now = await settled(d, { a: 'up', b: 'down', c: 'up' });
    expect(now.b.target_state).toBe('down');
    await update(d, { requests: [['all', 'down']] });
    await settled(d, { a: 'down', b: 'down', c: 'down' });
  });

  it('reports an unknown instance id in the update session and changes nothing else', async () => {
    d = await startDaemon(scfText(sleepers(['a'], 'host/down')));
    const done = await update(d, { requests: [['ghost', 'up'], ['a', 'up']] });
    expect(done.session.success).toBe(true);
    expect(done.session.messages.map((m: [number, string]) => m[1])).toContain('Unknown instance "ghost"; request ignored.');
    await settled(d, { a: 'up' });
  });

  it('refuses update while the manager is stopped, and manager stop brings every child down', async () => {
    d = await startDaemon(scfText(sleepers(['a', 'b'])));
    const up = await settled(d, { a: 'up', b: 'up' });
    const stopped = await api(d, 'POST', '/api/ops/manager/stop');
    expect(stopped.json.code).toBe(0);
    const waited = await api(d, 'POST', '/api/ops/manager/wait', { timeout: 15 });
    expect(waited.json.message).toBe('Operation "manager" is currently not running (SUCCEEDED).');
    expect(isAlive(up.a.pid)).toBe(false);
    expect(isAlive(up.b.pid)).toBe(false);
    expect(await children(d)).toEqual([]);

    const done = await update(d, { requests: [['all', 'up']] });
    expect(done.session.success).toBe(false);
    expect(done.session.messages.at(-2)[1]).toBe('Manager process is not running; params not updated.');
    expect(await children(d)).toEqual([]);
  });

  it('answers malformed requests with 400 and the reason', async () => {
    d = await startDaemon(scfText(sleepers(['a'], 'host/down')));
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/api/ops/update/start', { requests: 'all' }, /^params\.requests: /],
      ['POST', '/api/ops/update/start', { requests: [['a', 'sideways']] }, /^params\.requests\[0\]\[1\]: /],
      ['POST', '/api/ops/update/start', '{"requests": [', /^body: not valid JSON/],
      ['POST', '/api/ops/update/wait', { timeout: 'soon' }, /^body\.timeout: /],
      ['GET', '/api/children/a/logs?lines=lots', undefined, /^query\.lines: /],
    ];
    for (const [method, path, body, reason] of cases) {
      const res = await api(d, method as 'GET' | 'POST', path, body);
      expect(res.status, path).toBe(400);
      expect(res.json.message, path).toMatch(reason);
    }
    expect((await api(d, 'GET', '/api/children/nope')).status).toBe(404);
    // Routes and URLs nothing serves answer in the same shape as every other error.
    expect(await api(d, 'GET', '/api/nope')).toEqual({ status: 404, json: { code: 'COX_NOT_FOUND', message: 'route GET /api/nope not found' } });
    expect((await api(d, 'GET', '/api/children/%ZZ')).json.code).toBe('COX_BAD_REQUEST');
    expect((await api(d, 'POST', '/api/ops/nope/start', {})).json.message).toBe('No task or process called "nope"');
  });

  it('serves the OCS /call bridge: get_api, start/wait/status of update, unknown procedures', async () => {
    d = await startDaemon(scfText(sleepers(['a'], 'host/down')));
    const api_ = (await ocsCall(d, 'observatory.hm-test', ['get_api'])).args[0];
    expect(api_.agent_class).toBe('HostManager');
    expect(api_.processes.map((p: unknown[]) => p[0])).toEqual(['manager']);
    expect(api_.tasks.map((t: unknown[]) => t[0])).toEqual(['die', 'update']);
    expect(api_.tasks[1][1]).toEqual({ op_name: 'update', status: 'no_history' });
    expect(api_.processes[0][1]).toMatchObject({ op_name: 'manager', status: 'running', op_code: 3 });

    const [code, message, session] = (await ocsCall(d, 'observatory.hm-test.ops', ['start', 'update', { requests: [['a', 'up']] }])).args[0];
    expect([code, message, session.op_name]).toEqual([0, 'Started task "update".', 'update']);
    const waited = (await ocsCall(d, 'observatory.hm-test.ops', ['wait', 'update'], { timeout: null })).args[0];
    expect(waited[0]).toBe(0);
    expect(waited[2]).toMatchObject({ status: 'done', success: true, op_code: 5 });
    const status = (await ocsCall(d, 'observatory.hm-test.ops', ['status', 'manager'])).args[0];
    expect(status[1]).toBe('Session active.');
    await waitUntil(async () => {
      const s = (await ocsCall(d!, 'observatory.hm-test.ops', ['status', 'manager'])).args[0][2];
      return s.data.child_states.find((c: any) => c.instance_id === 'a')?.next_action === 'up';
    }, 5_000, 'a up in child_states');
    const manager = (await ocsCall(d, 'observatory.hm-test.ops', ['status', 'manager'])).args[0][2];
    expect(manager.data.child_states[0]).toMatchObject({ instance_id: 'a', agent_class: 'Sleeper', target_state: 'up', next_action: 'up', stability: 1 });
    expect(manager.data.config_parse_status['[SCF]'][0]).toBe(true);
    expect(manager.data).toMatchObject({ orphans: {}, new_tags: {} });

    expect(await ocsCall(d, 'observatory._crossbar_check_', [])).toEqual({
      error: 'wamp.error.no_such_procedure',
      args: ['no callee registered for procedure <observatory._crossbar_check_>'],
      kwargs: {},
    });
    expect((await ocsCall(d, 'observatory.hm-test.ops', ['start', 'nope', {}])).args[0].slice(0, 2)).toEqual([-1, 'No task or process called "nope"']);
  });

  it('brings every child down on SIGTERM and exits 0', async () => {
    d = await startDaemon(scfText(sleepers(['a', 'b', 'c'])));
    const up = await settled(d, { a: 'up', b: 'up', c: 'up' });
    d.proc.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    for (const c of Object.values(up)) expect(isAlive(c.pid)).toBe(false);
  });

  it('gives each child its whole stop-timeout on SIGTERM, past the 15 s it used to cap', async () => {
    const done = join(tmpdir(), `cox-slow-stop-${process.pid}-${Date.now()}`);
    const slow = `{agent-class: Slow, instance-id: slow, stop-timeout: 25, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(`${FIXTURES}slow-stop.mjs`)}, "16500", ${JSON.stringify(done)}]}`;
    d = await startDaemon(scfText([slow]));
    await settled(d, { slow: 'up' });
    // Up once spawned; its SIGTERM handler is in place once it says so.
    await waitUntil(() => existsSync(join(d!.dir, 'logs', 'slow.log')) && readFileSync(join(d!.dir, 'logs', 'slow.log'), 'utf8').includes('ready'), 10_000, 'the child ready');
    d.proc.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(readFileSync(done, 'utf8')).toBe('stopped cleanly\n');
    rmSync(done);
  }, 40_000);

  it('reads the site config again on SIGHUP instead of dying from it', async () => {
    d = await startDaemon(scfText(sleepers(['a'])));
    await settled(d, { a: 'up' });
    // Written where the watcher is not looking: only the signal can have it read.
    writeFileSync(d.scf, scfText(sleepers(['a', 'b'])));
    d.proc.kill('SIGHUP');
    await settled(d, { a: 'up', b: 'up' });
    expect(d.proc.exitCode).toBeNull();
  });

  it('answers OCS clients at the address of the edited site config', async () => {
    d = await startDaemon(scfText(sleepers(['a'])));
    await settled(d, { a: 'up' });
    writeFileSync(d.scf, scfText(sleepers(['a'])).replace('hm-test', 'hm-renamed').replace('address_root: observatory', 'address_root: obs2'));
    d.proc.kill('SIGHUP');
    await waitUntil(async () => (await api(d!, 'GET', '/api/health')).json.instance_id === 'hm-renamed', 10_000, 'the new instance-id');
    expect(await ocsCall(d, 'obs2.hm-renamed', ['get_agent_class'])).toEqual({ args: ['HostManager'] });
    expect((await ocsCall(d, 'observatory.hm-test', ['get_agent_class'])).error).toBe('wamp.error.no_such_procedure');
  });

  it('exits after die, with its children down', async () => {
    d = await startDaemon(scfText(sleepers(['a'])));
    const up = await settled(d, { a: 'up' });
    const res = await api(d, 'POST', '/api/ops/die/start', {});
    expect(res.json.code).toBe(0);
    expect(await d.exited).toBe(0);
    expect(isAlive(up.a.pid)).toBe(false);
  });
});
