import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Controller, NO_MATCH } from '../../../src/controller/controller.js';
import { SqliteJobStore } from '../../../src/controller/store/sqlite-store.js';
import { sweep } from '../../../src/controller/sweeper.js';
import { mkResult } from './store-conformance.js';

const A = { gid: 1, nid: 10 };
const B = { gid: 1, nid: 11 };
const log = pino({ level: 'silent' });

/** A controller on an in-memory store and a clock the test moves. */
function setup() {
  const clock = { t: 1_700_000_000_000 };
  const store = SqliteJobStore.open(':memory:');
  const controller = new Controller({ store, logger: log, now: () => clock.t, pollTimeoutMs: 60_000, ttlMs: 30_000, ackTimeoutMs: 10_000 });
  const tick = () => sweep(controller, { ttlMs: 30_000, retentionMs: 7 * 86_400_000, graceUntil: 0 }, log);
  return { clock, store, controller, tick };
}

let s: ReturnType<typeof setup>;
beforeEach(() => {
  s = setup();
});
afterEach(async () => {
  s.controller.close();
  await s.store.close();
});

describe('Controller', () => {
  it('re-offers an unacknowledged job once, ahead of newer ones, then ends it ERROR (fake clock)', async () => {
    const { clock, controller, tick } = s;
    await controller.poll(A, [], 0);
    await controller.submit({ cmd: 'execute', gid: 1, nid: 10, id: 'old' });
    const first = (await controller.poll(A, [], 0))[0]!;
    await controller.submit({ cmd: 'execute', gid: 1, nid: 10, id: 'new' });
    clock.t += 9_999;
    expect(await tick()).toMatchObject({ reoffered: 0 });
    clock.t += 2;
    expect(await tick()).toMatchObject({ reoffered: 1 });
    expect(await controller.ack(A, [{ id: 'old', lease: first.lease }])).toEqual([{ id: 'old', ok: false, code: 'COX_LEASE_INVALID', message: expect.stringContaining('"old"') }]);
    expect((await controller.poll(A, [], 0))[0]!.id).toBe('old');
    clock.t += 10_001;
    expect(await tick()).toMatchObject({ reoffered: 0, unacknowledged: 1 });
    expect((await controller.get('old')).results[0]!.data).toBe('agent 1_10 did not acknowledge the job after 2 offers');
    expect((await controller.poll(A, [], 0))[0]!.id).toBe('new');
  });

  it('fails at once a job no live node matches, and forgets nodes past the TTL', async () => {
    const { clock, controller } = s;
    await controller.poll(A, ['storage'], 0);
    expect((await controller.submit({ cmd: 'x', roles: ['gpu'] })).results[0]).toMatchObject({ state: 'ERROR', data: NO_MATCH });
    expect((await controller.submit({ cmd: 'x', roles: ['storage'] })).state).toBe('QUEUED');
    clock.t += 30_001;
    expect((await controller.submit({ cmd: 'x', roles: ['storage'] })).state).toBe('ERROR');
    expect((await controller.submit({ cmd: 'x', gid: 1, nid: 10 })).state).toBe('ERROR');
  });

  it('gives a role job to the node whose poll has waited longest', async () => {
    const { controller } = s;
    const pb = controller.poll(B, ['s'], 60_000);
    const pa = controller.poll(A, ['s'], 60_000);
    await new Promise((r) => setTimeout(r, 10));
    await controller.submit({ cmd: 'x', roles: ['s'], id: 'one' });
    await controller.submit({ cmd: 'x', roles: ['s'], id: 'two' });
    expect([(await pb)[0]!.id, (await pa)[0]!.id]).toEqual(['one', 'two']);
  });

  it('takes back a job handed to a poll that ended before the hand-off; the next poll gets it', async () => {
    const { controller } = s;
    await controller.poll(B, [], 0);
    const ac = new AbortController();
    const pa = controller.poll(A, ['s'], 60_000, ac.signal);
    await new Promise((r) => setTimeout(r, 10));
    // The first write of a turn commits at once; the next waits for the end of the turn, and
    // meanwhile the poll it was meant for goes away.
    const first = controller.submit({ cmd: 'x', gid: 1, nid: 11, id: 'to-b' });
    const handed = controller.submit({ cmd: 'x', roles: ['s'], id: 'to-a' });
    ac.abort();
    expect(await pa).toEqual([]);
    expect((await handed).state).toBe('QUEUED');
    await first;
    const next = await controller.poll(A, ['s'], 1000);
    expect(next.map((o) => o.id)).toEqual(['to-a']);
    expect(await controller.ack(A, [{ id: 'to-a', lease: next[0]!.lease }])).toEqual([{ id: 'to-a', ok: true }]);
  });

  it('holds a waiting submit until the result arrives', async () => {
    const { controller } = s;
    await controller.poll(A, [], 0);
    const waiting = controller.submit({ cmd: 'x', nid: 10, id: 'w', wait: 30 });
    const offer = (await controller.poll(A, [], 1000))[0]!;
    await controller.ack(A, [{ id: offer.id, lease: offer.lease }]);
    await controller.result(A, [mkResult('w', A)]);
    expect(await waiting).toMatchObject({ state: 'SUCCESS', results: [{ data: 'ok' }] });
  });

  it('refuses a result for a job the node was not given, and changes nothing', async () => {
    const { controller } = s;
    await controller.poll(A, [], 0);
    await controller.submit({ cmd: 'x', nid: 10, id: 'j' });
    expect(await controller.result(B, [mkResult('j', B)])).toMatchObject([{ id: 'j', ok: false, code: 'COX_NOT_FOUND' }]);
    expect(await controller.result(A, [mkResult('ghost', A)])).toMatchObject([{ id: 'ghost', ok: false, code: 'COX_NOT_FOUND' }]);
    expect((await controller.get('j')).state).toBe('QUEUED');
  });

  it('kills a running job by sending its node a kill job ahead of its queue', async () => {
    const { controller } = s;
    await controller.poll(A, [], 0);
    await controller.submit({ cmd: 'x', nid: 10, id: 'run' });
    const offer = (await controller.poll(A, [], 0))[0]!;
    await controller.ack(A, [{ id: offer.id, lease: offer.lease }]);
    await controller.submit({ cmd: 'x', nid: 10, id: 'later' });
    expect((await controller.kill('run')).state).toBe('RUNNING');
    expect(await controller.poll(A, [], 0)).toMatchObject([{ cmd: 'kill', args: { id: 'run' } }]);
    await expect(controller.kill('ghost')).rejects.toMatchObject({ code: 'COX_NOT_FOUND' });
  });

  it('gives a poll with max 0 (no free slot) the kill of its running job, never the jobs queued behind it', async () => {
    const { controller } = s;
    await controller.poll(A, [], 0);
    await controller.submit({ cmd: 'x', nid: 10, id: 'run' });
    const offer = (await controller.poll(A, [], 0))[0]!;
    await controller.ack(A, [{ id: offer.id, lease: offer.lease }]);
    const full = controller.poll(A, [], 60_000, undefined, 0);
    await new Promise((r) => setTimeout(r, 10));
    // Woken by it, the full node's poll goes on waiting: the job is not handed to it either.
    expect((await controller.submit({ cmd: 'x', nid: 10, id: 'later' })).state).toBe('QUEUED');
    await new Promise((r) => setTimeout(r, 10));
    expect(controller.polls.size).toBe(1);
    await controller.kill('run');
    expect(await full).toMatchObject([{ cmd: 'kill', args: { id: 'run' } }]);
    expect(await controller.poll(A, [], 0, undefined, 0)).toEqual([]);
    expect((await controller.poll(A, [], 0, undefined, 1)).map((o) => o.id)).toEqual(['later']);
  });

  it('offers built-ins and process starts, which take no slot, to a full node and ahead of its queued jobs', async () => {
    const { controller } = s;
    await controller.poll(A, [], 0);
    await controller.submit({ cmd: 'x', nid: 10, id: 'queued' });
    await controller.submit({ cmd: 'ping', nid: 10, id: 'ping' });
    const started = await controller.processes.start({ node: '1_10', name: 'p', work_dir: '/tmp', args: ['/bin/true'], env: {}, stdout: '/tmp/p.out', stderr: '/tmp/p.err' });
    expect((await controller.poll(A, [], 0, undefined, 0)).map((o) => o.id)).toEqual(['ping']);
    expect((await controller.poll(A, [], 0, undefined, 0)).map((o) => o.id)).toEqual([started.id]);
    expect((await controller.poll(A, [], 0, undefined, 0)).map((o) => o.id)).toEqual([]);
    expect((await controller.poll(A, [], 0, undefined, 5)).map((o) => o.id)).toEqual(['queued']);
  });

  it('routes a role job past a node whose poll has no free slot, to one that has; that poll keeps its node alive', async () => {
    const { clock, controller, tick } = s;
    const full = controller.poll(A, ['s'], 60_000, undefined, 0);
    const free = controller.poll(B, ['s'], 60_000);
    await new Promise((r) => setTimeout(r, 10));
    await controller.submit({ cmd: 'x', roles: ['s'], id: 'role' });
    expect((await free).map((o) => o.id)).toEqual(['role']);
    clock.t += 20_000;
    await tick();
    clock.t += 20_000;
    // B polls no more; A still does, full.
    expect(await tick()).toMatchObject({ lost: 1 });
    expect(Object.keys(await controller.sessions())).toEqual(['1_10']);
    controller.close();
    expect(await full).toEqual([]);
  });

  it('drops a node after the TTL; its running job ends ERROR, its queued job waits for it', async () => {
    const { clock, controller, tick } = s;
    await controller.poll(A, ['r'], 0);
    await controller.submit({ cmd: 'x', nid: 10, id: 'run' });
    await controller.submit({ cmd: 'x', nid: 10, id: 'queued' });
    const offer = (await controller.poll(A, ['r'], 0))[0]!;
    await controller.ack(A, [{ id: offer.id, lease: offer.lease }]);
    expect(await controller.sessions()).toEqual({ '1_10': [Math.floor(clock.t / 1000), 'r'] });
    clock.t += 30_001;
    expect(await tick()).toMatchObject({ lost: 1 });
    expect(await controller.sessions()).toEqual({});
    expect((await controller.get('run')).results[0]).toMatchObject({ state: 'ERROR', data: 'agent 1_10 lost' });
    expect((await controller.get('queued')).state).toBe('QUEUED');
  });

  it('keeps nodes with a pending poll alive, and releases their polls on close', async () => {
    const { clock, controller, tick } = s;
    const pending = controller.poll(A, [], 60_000);
    await new Promise((r) => setTimeout(r, 5));
    clock.t += 20_000;
    await tick();
    clock.t += 20_000;
    expect(await tick()).toMatchObject({ lost: 0 });
    controller.close();
    expect(await pending).toEqual([]);
    expect(controller.polls.size).toBe(0);
  });
});
