import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import { buildControllerApp } from '../../../src/controller/http/app.js';
import { SqliteJobStore } from '../../../src/controller/store/sqlite-store.js';
import { CANCEL_PROCESSES, EXIT_LOST, START_PROCESS } from '../../../src/protocol/process.js';

let app: FastifyInstance;
beforeEach(async () => {
  const store = SqliteJobStore.open(':memory:');
  const logger = pino({ level: 'silent' });
  const controller = new Controller({ store, logger, pollTimeoutMs: 60_000, ttlMs: 30_000, ackTimeoutMs: 10_000 });
  app = await buildControllerApp({ controller, logger, scriptDir: '/nonexistent' });
  app.addHook('onClose', () => store.close());
});
afterEach(async () => {
  await app.close();
});

const call = (method: 'GET' | 'POST', url: string, body?: unknown) =>
  app.inject({ method, url, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) } : {}) });
const good = { node: '1_10', name: 'macro', work_dir: '/tmp', args: ['/bin/true'], stdout: '/tmp/macro.out', stderr: '/tmp/macro.err' };
/** The agent 1_10 connects: a poll that answers at once. */
const connect = async (nid = 10) => expect((await call('GET', `/1/${nid}/cmd?timeout=0`)).statusCode).toBe(204);

describe('process API over HTTP', () => {
  it('answers bad start arguments with 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{}, 'body.node: required: the node name <gid>_<nid>'],
      [{ ...good, work_dir: undefined }, 'body.work_dir: required: the working directory (an absolute path on the node)'],
      [{ ...good, work_dir: 'run/here' }, 'body.work_dir: expected an absolute path on the node, got "run/here"'],
      [{ ...good, stdout: 'out.txt' }, 'body.stdout: expected an absolute path on the node, got "out.txt"'],
      [{ ...good, stderr: undefined }, 'body.stderr: required: the file for stderr (an absolute path on the node)'],
      [{ ...good, args: [] }, 'body.args: expected the executable and its arguments'],
      [{ ...good, args: 'ls' }, 'body.args: expected the executable and its arguments'],
      [{ ...good, name: '' }, 'body.name: expected 1–200 letters, digits or _ . : @ + = , [ ] - (not starting with a sign)'],
      [{ ...good, env: { 'A=B': 'x' } }, 'body.env.A=B: expected a variable name without = or NUL'],
      [{ ...good, node: 'node1' }, 'body.node: expected a node name <gid>_<nid> as cox sessions lists it, e.g. 1_10; got "node1"'],
      [{ ...good, node: '1_010' }, 'body.node: expected a node name <gid>_<nid> as cox sessions lists it, e.g. 1_10; got "1_010"'],
      [{ ...good, extra: 1 }, 'body: Unrecognized key: "extra"'],
    ];
    await connect();
    for (const [body, message] of cases) {
      const res = await call('POST', '/api/processes', body);
      expect([res.statusCode, res.json()], JSON.stringify(body)).toEqual([400, { code: 'COX_BAD_REQUEST', message }]);
    }
  });

  it('matches node names exactly: a node that is not connected is unknown, 1_1 is not 1_10', async () => {
    await connect();
    const unknown = await call('POST', '/api/processes', { ...good, node: '1_1' });
    expect([unknown.statusCode, unknown.json()]).toEqual([404, { code: 'COX_NODE_UNKNOWN', message: 'node 1_1 is not connected (connected nodes: 1_10)' }]);
    const started = await call('POST', '/api/processes', good);
    expect(started.statusCode).toBe(201);
    expect(started.json()).toMatchObject({ node: '1_10', name: 'macro' });
    const again = await call('POST', '/api/processes', good);
    expect([again.statusCode, again.json()]).toEqual([409, { code: 'COX_NAME_RUNNING', message: 'a process named "macro" is already running on node 1_10' }]);
    const offer = await call('GET', '/1/10/cmd?timeout=0');
    expect(offer.json()).toMatchObject({ id: started.json().id, cmd: START_PROCESS, args: { name: 'macro', work_dir: '/tmp', args: ['/bin/true'] } });
  });

  it('hands out an agent’s reported end once, waking a waiting get_finished', async () => {
    await connect();
    const { id } = (await call('POST', '/api/processes', good)).json();
    const offer = (await call('GET', '/1/10/cmd?timeout=0')).json();
    await call('POST', '/1/10/ack', { id, lease: offer.lease });
    const waiting = call('POST', '/api/processes/finished', { key: 'k1', wait: 10 });
    const report = await call('POST', '/1/10/processes/finished', [{ id, name: 'macro', exit_code: 0, ended: 5 }]);
    expect(report.json()).toEqual({ acknowledged: [id] });
    expect((await waiting).json()).toEqual([{ id, node: '1_10', name: 'macro', exit_code: 0, reason: '', ended: 5 }]);
    expect((await call('POST', '/api/processes/finished', { key: 'k1' })).json()).toHaveLength(1);
    expect((await call('POST', '/api/processes/finished')).json()).toEqual([]);
    const bad = await call('POST', '/1/10/processes/finished', [{ id, exit_code: 'zero' }]);
    expect(bad.statusCode).toBe(400);
    expect((await call('POST', '/api/processes/finished', { wait: -1 })).statusCode).toBe(400);
  });

  it('cancel_all withdraws starts not taken and puts a cancel ahead of every connected node’s queue', async () => {
    await connect(10);
    await connect(11);
    const first = (await call('POST', '/api/processes', good)).json();
    await call('POST', '/api/processes', { ...good, node: '1_11' });
    const taken = (await call('GET', '/1/11/cmd?timeout=0')).json();
    await call('POST', '/1/11/ack', { id: taken.id, lease: taken.lease });
    const report = await call('POST', '/api/processes/cancel_all');
    expect(report.json()).toEqual({ nodes: ['1_10', '1_11'], withdrawn: 1 });
    expect((await call('GET', '/1/10/cmd?timeout=0')).json()).toMatchObject({ cmd: CANCEL_PROCESSES });
    expect((await call('GET', '/1/11/cmd?timeout=0')).json()).toMatchObject({ cmd: CANCEL_PROCESSES });
    const finished = (await call('POST', '/api/processes/finished')).json();
    expect(finished).toMatchObject([{ id: first.id, exit_code: -1001, reason: 'not started: its start ended KILLED (killed before it was delivered)' }]);
    const ps = (await call('GET', '/api/processes')).json();
    expect(ps.map((p: { node: string; state: string }) => [p.node, p.state]).sort()).toEqual([['1_10', 'finished'], ['1_11', 'running']]);
  });

  it('keeps the cores from the startup event, and ends lost the processes a restarted agent forgot', async () => {
    await connect();
    const { id } = (await call('POST', '/api/processes', good)).json();
    const offer = (await call('GET', '/1/10/cmd?timeout=0')).json();
    await call('POST', '/1/10/ack', { id, lease: offer.lease });
    await call('POST', '/1/10/event', { name: 'startup', cores: [[0, 2], [1, 3]], processes: [] });
    expect((await call('GET', '/api/resources')).json()).toEqual({ '1_10': [[0, 2], [1, 3]] });
    const [lost] = (await call('POST', '/api/processes/finished')).json();
    expect(lost).toMatchObject({ id, exit_code: EXIT_LOST, reason: 'agent 1_10 does not know it (it restarted, or never heard that its start was taken); exit status unknown' });
  });
});
