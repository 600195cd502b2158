import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import { buildControllerApp } from '../../../src/controller/http/app.js';
import { SqliteJobStore } from '../../../src/controller/store/sqlite-store.js';

let app: FastifyInstance | undefined;
let dir: string | undefined;
afterEach(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  app = dir = undefined;
});

async function build(token?: string) {
  dir = mkdtempSync(join(tmpdir(), 'cox-ctl-http-'));
  mkdirSync(join(dir, 'ops'));
  writeFileSync(join(dir, 'ops', 'hello.sh'), 'echo hello\n');
  const store = SqliteJobStore.open(':memory:');
  const logger = pino({ level: 'silent' });
  const controller = new Controller({ store, logger, pollTimeoutMs: 60_000, ttlMs: 30_000, ackTimeoutMs: 10_000 });
  app = await buildControllerApp({ controller, logger, scriptDir: dir, ...(token ? { token } : {}) });
  app.addHook('onClose', () => store.close());
  return app;
}

const call = (a: FastifyInstance, method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}) =>
  a.inject({ method, url, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });

describe('controller HTTP', () => {
  it('answers every malformed body, query and path with 400 naming the field', async () => {
    const a = await build();
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/api/jobs', {}, /^body\.cmd: /],
      ['POST', '/api/jobs', { cmd: 'x' }, /^body\.nid: give nid \(with gid\) or roles/],
      ['POST', '/api/jobs', { cmd: 'x', nid: 'ten' }, /^body\.nid: /],
      ['POST', '/api/jobs', { cmd: 'x', roles: ['a'], role: 'b' }, /^body: Unrecognized key/],
      ['POST', '/api/jobs', { cmd: 'x', roles: ['a'], args: { max_time: 'long' } }, /^body\.args\.max_time: /],
      ['POST', '/api/jobs', { cmd: 'x', roles: ['a'], wait: -1 }, /^body\.wait: /],
      ['POST', '/api/jobs', '{"cmd": ', /^body: not valid JSON/],
      ['POST', '/api/jobs', '{"cmd": "x", "roles": ["a"], "__proto__": {"polluted": 1}}', /^body: not valid JSON/],
      ['GET', '/api/jobs?state=NOPE', undefined, /^query\.state: /],
      ['GET', '/api/jobs?limit=0', undefined, /^query\.limit: /],
      ['GET', '/api/jobs/x?wait=soon', undefined, /^query\.wait: /],
      ['GET', '/abc/1/cmd', undefined, /^path\.gid: /],
      ['GET', '/1/1e3/cmd', undefined, /^path\.nid: /],
      ['GET', '/1/10/cmd?timeout=soon', undefined, /^query\.timeout: /],
      ['POST', '/1/10/ack', { id: 'x' }, /^body\.lease: /],
      ['POST', '/1/10/ack', [{ id: 'x', lease: 'l' }, { id: 'y' }], /^body\[1\]\.lease: /],
      ['POST', '/1/10/ack', [], /^body: /],
      ['POST', '/1/10/result', [{ id: 'x', gid: 1, nid: 10, cmd: 'x', starttime: 0, time: 0 }], /^body\[0\]\.state: /],
      ['GET', '/1/10/cmd?max=-1', undefined, /^query\.max: /],
      ['POST', '/api/jobs', { cmd: 'x', roles: ['a'], args: { max_time: 2_200_000 } }, /^body\.args\.max_time: expected at most 2147483 seconds/],
      ['POST', '/api/jobs', { cmd: 'x', roles: ['a'], args: { recurring_period: 3_000_000 } }, /^body\.args\.recurring_period: expected at most/],
      ['POST', '/api/jobs', { cmd: 'x', gid: 1, nid: 1_000_000_000 }, /^body\.nid: /],
      ['POST', '/api/jobs', `{"cmd": "x", "roles": ["a"], "args": {"deep": ${'['.repeat(5000)}${']'.repeat(5000)}}}`, /^body\.args: nested deeper than 64 levels$/],
      ['GET', '/1/10/cmd?max=1001', undefined, /^query\.max: /],
      ['GET', '/1/10/cmd?max=two', undefined, /^query\.max: /],
      ['POST', '/1/10/result', { id: 'x', gid: 1, nid: 10, cmd: 'x', starttime: 0, time: 0 }, /^body\.state: /],
      ['POST', '/1/10/log', { id: 'x' }, /^body: /],
      ['POST', '/1/10/log', [{ id: 'x', mid: -1, level: 1, message: '', epoch: 0 }], /^body\[0\]\.mid: /],
      ['POST', '/1/10/stats', { timestamp: 1, series: [['a', 'b']] }, /^body\.series\[0\]\[1\]: /],
      ['POST', '/1/10/event', {}, /^body\.name: /],
      ['GET', '/script?hash=xyz', undefined, /^query\.hash: /],
      ['POST', '/api/executeJumpScript', { organization: '..', name: 'x', nid: 1 }, /^body\.organization: /],
      ['POST', '/api/executeJumpScript', { organization: 'ops', name: 'hello' }, /^body: give nid or role/],
    ];
    for (const [method, url, body, reason] of cases) {
      const res = await call(a, method as 'GET' | 'POST', url, body);
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json().code).toBe('COX_BAD_REQUEST');
      expect(res.json().message, url).toMatch(reason);
    }
    expect((await call(a, 'GET', '/nowhere')).json()).toMatchObject({ code: 'COX_NOT_FOUND' });
  });

  it('offers several jobs to a poll with max, and takes batched acks and results item by item', async () => {
    const a = await build();
    await call(a, 'GET', '/1/10/cmd?timeout=0');
    for (const id of ['a', 'b', 'c']) await call(a, 'POST', '/api/jobs', { cmd: 'x', nid: 10, id });
    const offers = (await call(a, 'GET', '/1/10/cmd?timeout=0&max=2')).json();
    expect(offers.map((o: { id: string }) => o.id)).toEqual(['a', 'b']);
    // Without max, one object, as JumpScale's agents expect.
    const single = (await call(a, 'GET', '/1/10/cmd?timeout=0')).json();
    expect(single).toMatchObject({ id: 'c', gid: 1, nid: 10 });
    expect((await call(a, 'GET', '/1/10/cmd?timeout=0&max=5')).statusCode).toBe(204);

    const acks = [{ id: 'a', lease: offers[0].lease }, { id: 'b', lease: 'stale' }, { id: 'c', lease: single.lease }];
    const acked = await call(a, 'POST', '/1/10/ack', acks);
    expect([acked.statusCode, acked.json()]).toEqual([200, [{ id: 'a', ok: true }, { id: 'b', ok: false, code: 'COX_LEASE_INVALID', message: expect.any(String) }, { id: 'c', ok: true }]]);
    const stale = await call(a, 'POST', '/1/10/ack', { id: 'b', lease: 'stale' });
    expect([stale.statusCode, stale.json().code]).toEqual([409, 'COX_LEASE_INVALID']);

    const result = (id: string) => ({ id, gid: 1, nid: 10, cmd: 'x', state: 'SUCCESS', starttime: 0, time: 1 });
    const stored = await call(a, 'POST', '/1/10/result', [result('a'), result('ghost'), result('c')]);
    expect(stored.json()).toMatchObject([{ id: 'a', ok: true }, { id: 'ghost', ok: false, code: 'COX_NOT_FOUND' }, { id: 'c', ok: true }]);
    expect((await call(a, 'POST', '/1/10/result', result('ghost'))).statusCode).toBe(404);
    expect((await call(a, 'GET', '/api/jobs/a')).json().state).toBe('SUCCESS');
    expect((await call(a, 'GET', '/api/jobs/b')).json().state).toBe('QUEUED');
  });

  it('gives a poll with max=0 (no free slot) only urgent jobs: the kill, not the queued job', async () => {
    const a = await build();
    await call(a, 'GET', '/1/10/cmd?timeout=0');
    for (const id of ['run', 'queued']) await call(a, 'POST', '/api/jobs', { cmd: 'x', nid: 10, id });
    const [offer] = (await call(a, 'GET', '/1/10/cmd?timeout=0&max=1')).json();
    await call(a, 'POST', '/1/10/ack', [{ id: 'run', lease: offer.lease }]);
    expect((await call(a, 'GET', '/1/10/cmd?timeout=0&max=0')).statusCode).toBe(204);
    await call(a, 'POST', '/api/jobs/run/kill');
    expect((await call(a, 'GET', '/1/10/cmd?timeout=0&max=0')).json()).toMatchObject([{ cmd: 'kill', args: { id: 'run' } }]);
    expect((await call(a, 'GET', '/1/10/cmd?timeout=0&max=0')).statusCode).toBe(204);
    expect((await call(a, 'GET', '/1/10/cmd?timeout=0&max=1')).json()).toMatchObject([{ id: 'queued' }]);
  });

  it('refuses a duplicate job id with 409 COX_DUPLICATE_ID', async () => {
    const a = await build();
    await call(a, 'GET', '/1/10/cmd?timeout=0');
    expect((await call(a, 'POST', '/api/jobs', { cmd: 'x', nid: 10, id: 'same' })).statusCode).toBe(201);
    const dup = await call(a, 'POST', '/api/jobs', { cmd: 'x', nid: 10, id: 'same' });
    expect([dup.statusCode, dup.json().code]).toEqual([409, 'COX_DUPLICATE_ID']);
  });

  it('serves, kills and lists the logs of a job by an id as long as a submit may give', async () => {
    const a = await build();
    const id = `j${'é'.repeat(199)}`;
    await call(a, 'GET', '/1/10/cmd?timeout=0');
    expect((await call(a, 'POST', '/api/jobs', { cmd: 'x', nid: 10, id })).statusCode).toBe(201);
    const path = `/api/jobs/${encodeURIComponent(id)}`;
    expect((await call(a, 'GET', path)).json()).toMatchObject({ job: { id }, state: 'QUEUED' });
    expect((await call(a, 'GET', `${path}/logs`)).statusCode).toBe(200);
    expect((await call(a, 'POST', `${path}/kill`)).statusCode).toBe(200);
    expect((await call(a, 'GET', path)).json().state).toBe('KILLED');
  });

  it('sends a jumpscript by hash, role winning over nid, and serves its text', async () => {
    const a = await build();
    await call(a, 'GET', '/1/10/cmd?role=ops&timeout=0');
    const res = await call(a, 'POST', '/api/executeJumpScript', { organization: 'ops', name: 'hello', nid: 99, role: 'ops', args: { msg: 'hi' }, timeout: 5, queue: 'q' });
    expect(res.statusCode).toBe(201);
    const hash = createHash('sha256').update('echo hello\n').digest('hex');
    expect(res.json().job).toMatchObject({ cmd: 'jumpscript', roles: ['ops'], nid: null, data: '{"msg":"hi"}', args: { organization: 'ops', name: 'hello', hash, ext: 'sh', max_time: 5, queue: 'q' } });
    const offer = await call(a, 'GET', '/1/10/cmd?role=ops&timeout=0');
    expect(offer.json()).toMatchObject({ id: res.json().job.id, gid: 1, nid: 10 });
    const script = await call(a, 'GET', `/script?hash=${hash}`);
    expect([script.statusCode, script.body]).toEqual([200, 'echo hello\n']);
    expect((await call(a, 'GET', `/script?hash=${'0'.repeat(64)}`)).statusCode).toBe(404);
    const missing = await call(a, 'POST', '/api/executeJumpScript', { organization: 'ops', name: 'nope', nid: 10 });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'COX_NOT_FOUND']);
  });

  it('keeps what agents report: logs per job, stats per node, events', async () => {
    const a = await build();
    await call(a, 'GET', '/1/10/cmd?timeout=0');
    const { job } = (await call(a, 'POST', '/api/jobs', { cmd: 'x', nid: 10, id: 'j' })).json();
    const messages = [1, 2].map((mid) => ({ id: job.id, mid, level: 1, message: `line ${mid}`, epoch: 1 }));
    expect((await call(a, 'POST', '/1/10/log', messages)).json()).toEqual({ accepted: 2 });
    expect((await call(a, 'POST', '/1/10/stats', { timestamp: 5, series: [['cpu', 0.5]] })).statusCode).toBe(200);
    expect((await call(a, 'POST', '/1/10/event', { name: 'startup', pid: 1 })).statusCode).toBe(200);
    expect((await call(a, 'GET', '/api/jobs/j/logs')).json().map((l: { message: string; nid: number }) => [l.message, l.nid])).toEqual([['line 1', 10], ['line 2', 10]]);
    expect((await call(a, 'GET', '/api/stats?gid=1&nid=10')).json()).toEqual({ latest: { timestamp: 5, series: [['cpu', 0.5]] }, history: [{ timestamp: 5, series: [['cpu', 0.5]] }] });
  });

  it('with a token, refuses clients and agents that do not present it', async () => {
    const a = await build('s3cret');
    const bearer = { authorization: 'Bearer s3cret' };
    expect((await call(a, 'GET', '/api/sessions')).statusCode).toBe(401);
    // The controller reads the header only: its refusal must not suggest a query parameter.
    expect((await call(a, 'GET', '/api/sessions?token=s3cret')).json()).toEqual({ code: 'COX_UNAUTHORIZED', message: 'a valid token is required (Authorization: Bearer <token>)' });
    expect((await call(a, 'GET', '/1/10/cmd?timeout=0')).json().code).toBe('COX_UNAUTHORIZED');
    expect((await call(a, 'GET', '/api/sessions', undefined, { authorization: 'Bearer wrong' })).statusCode).toBe(401);
    expect((await call(a, 'GET', '/1/10/cmd?timeout=0', undefined, bearer)).statusCode).toBe(204);
    expect((await call(a, 'GET', '/api/sessions', undefined, bearer)).json()).toHaveProperty('1_10');
  });
});
