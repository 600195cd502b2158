import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { callBridge } from '../../src/ops/http/call-bridge.js';
import { opsRoutes } from '../../src/ops/http/ops-routes.js';
import { OpRegistry } from '../../src/ops/registry.js';
import { Errors } from '../../src/shared/errors.js';

const R = 'observatory';
const H = 'hm-test';

interface Rig {
  app: FastifyInstance;
  port: number;
  release: () => void;
}

let rig: Rig | undefined;
afterEach(async () => {
  rig?.release();
  await rig?.app.close();
  rig = undefined;
});

/** A registry with a gated task, a quick task and a process, served by both plugins. */
async function serve(): Promise<Rig> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const registry = new OpRegistry();
  registry.registerTask<{ label: string }>('update', {
    docstring: 'Waits for the test to release it.',
    parseParams: (raw) => {
      const label = (raw as { label?: unknown }).label ?? 'none';
      if (typeof label !== 'string') throw Errors.BAD_REQUEST("Param 'label' must be a string");
      return { label };
    },
    run: async ({ session, params }) => {
      session.data = { label: params.label };
      await gate;
      return [true, `Updated ${params.label}.`];
    },
  });
  registry.registerTask('quick', { docstring: 'Ends at once.', run: async () => [true, 'Done quickly.'] });
  registry.registerProcess('manager', {
    docstring: 'Runs until stopped.',
    run: ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve([true, 'Stopped.']))),
  });
  const app = Fastify();
  await app.register(opsRoutes, { registry });
  await app.register(callBridge, { address: () => `${R}.${H}`, agentClass: 'HostManager', registry, hostname: 'testhost', pid: 4242 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  rig = { app, port: (app.server.address() as AddressInfo).port, release };
  return rig;
}

/** A raw POST: exactly the headers given (node adds none of its own content headers). */
function post(port: number, path: string, body: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; type: string; json: any }>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), json: JSON.parse(text) });
          } catch (err) {
            reject(new Error(`not JSON (${res.statusCode}): ${text}`, { cause: err }));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What OCS's client_http sends: json.dumps of the call, no Content-Type. */
const call = (port: number, procedure: string, args: unknown[], kwargs: Record<string, unknown> = {}) =>
  post(port, '/call', JSON.stringify({ procedure, args, kwargs }));

describe('OCS /call bridge over real HTTP', () => {
  it('serves get_api to a client that sends no Content-Type', async () => {
    const { port } = await serve();
    const res = await call(port, `${R}.${H}`, ['get_api']);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
    const api = res.json.args[0];
    expect(api).toMatchObject({ agent_class: 'HostManager', instance_hostname: 'testhost', instance_pid: 4242, feeds: [] });
    expect(api.tasks.map((t: unknown[]) => t[0])).toEqual(['quick', 'update']);
    expect(api.processes).toEqual([
      ['manager', { op_name: 'manager', status: 'no_history' },
        { blocking: false, docstring: 'Runs until stopped.', op_type: 'process', min_privs: 1, abortable: false }],
    ]);
  });

  it('answers the crossbar probe with exactly no_such_procedure', async () => {
    const { port } = await serve();
    const res = await call(port, `${R}._crossbar_check_`, []);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      error: 'wamp.error.no_such_procedure',
      args: [`no callee registered for procedure <${R}._crossbar_check_>`],
      kwargs: {},
    });
  });

  it('answers 200 invalid_argument, with args and kwargs, to bodies it cannot use', async () => {
    const { port } = await serve();
    for (const [body, headers] of [
      ['this is not json', {}],
      ['[1, 2]', {}],
      ['', {}],
      ['{"procedure": 5}', { 'content-type': 'application/json' }],
      [JSON.stringify({ procedure: `${R}.${H}.ops`, args: [1, 'update'] }), { 'content-type': ';;;bad' }],
    ] as const) {
      const res = await post(port, '/call', body, headers);
      expect(res.status, body).toBe(200);
      expect(res.json, body).toEqual({ error: 'wamp.error.invalid_argument', args: [expect.any(String)], kwargs: {} });
    }
    expect((await post(port, '/call', '{"procedure": 5}')).json.args[0]).toMatch(/^body\.procedure: /);
  });

  it('parses JSON whatever the Content-Type says, on any path outside /api', async () => {
    const { port } = await serve();
    const body = JSON.stringify({ procedure: `${R}.${H}`, args: ['get_agent_class'], kwargs: {} });
    const types = ['application/x-www-form-urlencoded', 'text/plain', ';;;not a media type'];
    for (const headers of types.map((t) => ({ 'content-type': t }))) {
      expect((await post(port, '/anything/here', body, headers)).json).toEqual({ args: ['HostManager'] });
    }
    const api = await new Promise<number>((resolve) => {
      http.request({ host: '127.0.0.1', port, path: '/api/nothing', method: 'POST' }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).end();
    });
    expect(api).toBe(404);
  });

  it('drives an op: start, status, wait timeout, wait until done', async () => {
    const { port, release } = await serve();
    const ops = `${R}.${H}.ops`;
    const started = (await call(port, ops, ['start', 'update', { label: 'all' }])).json.args[0];
    expect(started.slice(0, 2)).toEqual([0, 'Started task "update".']);
    expect(started[2]).toMatchObject({ op_name: 'update', status: 'starting', session_id: 0 });

    const again = (await call(port, ops, ['start', 'update', {}])).json.args[0];
    expect(again.slice(0, 2)).toEqual([-1, 'Operation "update" already in progress.']);
    expect((await call(port, ops, ['status', 'update', {}])).json.args[0]).toEqual([
      0, 'Session active.', expect.objectContaining({ status: 'running', data: { label: 'all' } }),
    ]);
    expect((await call(port, ops, ['wait', 'update', {}], { timeout: 0.05 })).json.args[0].slice(0, 2)).toEqual([
      1, 'Operation "update" still running; wait timed out.',
    ]);

    const held = call(port, ops, ['wait', 'update', {}], { timeout: null });
    setTimeout(release, 50);
    const [code, msg, session] = (await held).json.args[0];
    expect([code, msg]).toEqual([0, 'Operation "update" is currently not running (SUCCEEDED).']);
    expect(session).toMatchObject({ status: 'done', success: true, op_code: 5 });

    expect((await call(port, ops, ['start', 'nope', {}])).json.args[0]).toEqual([-1, 'No task or process called "nope"', {}]);
    expect((await call(port, ops, ['frobnicate', 'update', {}])).json.args[0]).toEqual([-1, 'No implementation for "frobnicate"', {}]);
    expect((await call(port, ops, ['start', 'update', { label: 7 }])).json.args[0]).toEqual([-1, "Param 'label' must be a string", {}]);
    expect((await call(port, ops, ['wait', 'quick', {}], { timeout: 'soon' })).json).toMatchObject({
      error: 'wamp.error.invalid_argument', args: [expect.stringMatching(/^kwargs\.timeout: /)],
    });
  });

  it('releases a held wait when the server closes', async () => {
    const r = await serve();
    await call(r.port, `${R}.${H}.ops`, ['start', 'manager', {}]);
    const held = call(r.port, `${R}.${H}.ops`, ['wait', 'manager', {}], { timeout: null });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = r.app.close();
    expect((await held).json.args[0][0]).toBe(1);
    await closed;
    rig = undefined;
  });
});

describe('REST /api/ops', () => {
  it('describes, starts, waits and reports', async () => {
    const { app, release } = await serve();
    expect((await app.inject({ method: 'GET', url: '/api/ops' })).json().tasks.map((t: unknown[]) => t[0])).toEqual(['quick', 'update']);
    const start = await app.inject({ method: 'POST', url: '/api/ops/update/start', payload: { label: 'x' } });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ code: 0, message: 'Started task "update".', session: { op_name: 'update' } });
    const dup = await app.inject({ method: 'POST', url: '/api/ops/update/start' });
    expect([dup.statusCode, dup.json().error]).toEqual([409, 'COX_ILLEGAL_STATE']);
    const timedOut = await app.inject({ method: 'POST', url: '/api/ops/update/wait?timeout=0' });
    expect([timedOut.statusCode, timedOut.json().code]).toEqual([200, 1]);
    release();
    const waited = await app.inject({ method: 'POST', url: '/api/ops/update/wait', payload: { timeout: null } });
    expect(waited.json()).toMatchObject({ code: 0, message: 'Operation "update" is currently not running (SUCCEEDED).' });
    expect((await app.inject({ method: 'GET', url: '/api/ops/update' })).json()).toMatchObject({ code: 0, message: 'Session active.' });
    const empty = await app.inject({ method: 'POST', url: '/api/ops/quick/start', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(empty.statusCode).toBe(200);
  });

  it('maps refusals onto HTTP statuses with a reason naming the field', async () => {
    const { app } = await serve();
    const cases: [string, string, string | undefined, number, RegExp][] = [
      ['POST', '/api/ops/update/start', '{"label": ', 400, /^body: not valid JSON/],
      ['POST', '/api/ops/update/start', '[1]', 400, /^body: expected an object of op params/],
      ['POST', '/api/ops/update/start', '{"label": 3}', 400, /^Param 'label' must be a string$/],
      ['POST', '/api/ops/update/wait', '{"timeout": "x"}', 400, /^body\.timeout: /],
      ['POST', '/api/ops/update/wait?timeout=soon', undefined, 400, /^query\.timeout: expected a number of seconds/],
      ['POST', '/api/ops/nope/start', '{}', 404, /^No task or process called "nope"$/],
      ['GET', '/api/ops/nope', undefined, 404, /^No task or process called "nope"$/],
      ['POST', '/api/ops/update/stop', '{}', 409, /^Cannot "stop" "update" because it is a "task"\.$/],
      ['POST', '/api/ops/manager/stop', undefined, 409, /^No session active\.$/],
      ['POST', '/api/ops/update/start', '{"__proto__": {"x": 1}}', 400, /forbidden key/],
    ];
    for (const [method, url, payload, status, message] of cases) {
      const headers = payload === undefined ? {} : { 'content-type': 'application/json' };
      const res = await app.inject({ method: method as 'GET' | 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });
      expect(res.statusCode, `${method} ${url} ${payload}`).toBe(status);
      expect(res.json(), url).toMatchObject({ code: -1, session: {}, message: expect.stringMatching(message), error: expect.any(String) });
    }
  });
});
