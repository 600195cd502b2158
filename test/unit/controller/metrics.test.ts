import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import { buildControllerApp } from '../../../src/controller/http/app.js';
import { SqliteJobStore } from '../../../src/controller/store/sqlite-store.js';
import { waitUntil } from '../../helpers/wait.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(token?: string) {
  const store = SqliteJobStore.open(':memory:');
  const logger = pino({ level: 'silent' });
  const controller = new Controller({ store, logger, pollTimeoutMs: 60_000, ttlMs: 30_000, ackTimeoutMs: 10_000 });
  app = await buildControllerApp({ controller, logger, scriptDir: '.', ...(token ? { token } : {}) });
  app.addHook('onClose', () => store.close());
  return app;
}

const get = (a: FastifyInstance, url: string, headers: Record<string, string> = {}) => a.inject({ method: 'GET', url, headers });
const submit = (a: FastifyInstance, body: object) =>
  a.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
const metrics = async (a: FastifyInstance) => (await get(a, '/metrics')).body;

const jobLines = (counts: Record<string, number>) =>
  ['QUEUED', 'RUNNING', 'SUCCESS', 'ERROR', 'TIMEOUT', 'KILLED', 'UNKNOWN_CMD', 'DUPLICATE_ID'].map((s) => `coxswain_controller_jobs{state="${s}"} ${counts[s] ?? 0}`);

describe('controller GET /metrics', () => {
  it('shows live nodes, jobs per state and each queue in the Prometheus text format', async () => {
    const a = await build();
    const empty = await get(a, '/metrics');
    expect([empty.statusCode, empty.headers['content-type']]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    expect(empty.body).toContain('coxswain_controller_sessions 0\n');
    expect(empty.body).toContain('# TYPE coxswain_controller_queue_length gauge\n# HELP coxswain_controller_polls_waiting');

    await get(a, '/1/10/cmd?timeout=0');
    await get(a, '/1/11/cmd?timeout=0');
    for (const id of ['a', 'b']) expect((await submit(a, { cmd: 'x', gid: 1, nid: 10, id })).statusCode).toBe(201);
    await submit(a, { cmd: 'x', gid: 1, nid: 11, id: 'c' });
    expect((await submit(a, { cmd: 'x', gid: 1, nid: 99, id: 'nowhere' })).json().state).toBe('ERROR');
    const offer = (await get(a, '/1/10/cmd?timeout=0')).json();
    await a.inject({ method: 'POST', url: '/1/10/ack', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ id: offer.id, lease: offer.lease }) });

    expect(await metrics(a)).toBe(
      [
        '# HELP coxswain_controller_sessions Nodes seen within the session TTL (listSessions).',
        '# TYPE coxswain_controller_sessions gauge',
        'coxswain_controller_sessions 2',
        '# HELP coxswain_controller_jobs Jobs kept in the store per state; finished ones count until retention prunes them.',
        '# TYPE coxswain_controller_jobs gauge',
        ...jobLines({ QUEUED: 2, RUNNING: 1, ERROR: 1 }),
        '# HELP coxswain_controller_queue_length Deliveries queued for or offered to the node, for nodes that have any.',
        '# TYPE coxswain_controller_queue_length gauge',
        'coxswain_controller_queue_length{node="1_10"} 1',
        'coxswain_controller_queue_length{node="1_11"} 1',
        '# HELP coxswain_controller_polls_waiting Agent long polls waiting for work right now.',
        '# TYPE coxswain_controller_polls_waiting gauge',
        'coxswain_controller_polls_waiting 0',
        '',
      ].join('\n'),
    );
  });

  it('counts a pending long poll until work wakes it', async () => {
    const a = await build();
    const poll = get(a, '/1/12/cmd?timeout=30');
    await waitUntil(async () => (await metrics(a)).includes('coxswain_controller_polls_waiting 1\n'), 5_000, 'the poll to wait');
    expect(await metrics(a)).toContain('coxswain_controller_sessions 1\n');
    await submit(a, { cmd: 'x', gid: 1, nid: 12, id: 'wake' });
    expect((await poll).json()).toMatchObject({ id: 'wake' });
    const text = await metrics(a);
    expect(text).toContain('coxswain_controller_polls_waiting 0\n');
    // Offered and not yet acknowledged: still the node's, still QUEUED as a job.
    expect(text).toContain('coxswain_controller_queue_length{node="1_12"} 1\n');
    expect(text).toContain('coxswain_controller_jobs{state="QUEUED"} 1\n');
  });

  it('is client API: with a token, only for whoever presents it', async () => {
    const a = await build('s3cret');
    expect((await get(a, '/metrics')).statusCode).toBe(401);
    expect((await get(a, '/metrics', { authorization: 'Bearer wrong' })).json().code).toBe('COX_UNAUTHORIZED');
    const ok = await get(a, '/metrics', { authorization: 'Bearer s3cret' });
    expect([ok.statusCode, ok.body]).toEqual([200, expect.stringContaining('coxswain_controller_sessions 0\n')]);
  });
});
