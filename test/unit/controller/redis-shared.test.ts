/**
 * Two stores on one Redis, as two controllers run: each change is decided from what it read and
 * committed only if nobody changed that meanwhile, so racing controllers never both win, and each
 * hears the other's changes.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import type { NodeKey, StoreEvent } from '../../../src/controller/store/job-store.js';
import { RedisJobStore } from '../../../src/controller/store/redis-store.js';
import { Errors, isCoxError } from '../../../src/shared/errors.js';
import { waitUntil } from '../../helpers/wait.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { mkJob, mkResult } from './store-conformance.js';

const A: NodeKey = { gid: 1, nid: 10 };
const T0 = 1_700_000_000_000;

describe('Redis store shared by two controllers', () => {
  let redis: RedisServer;
  let one: RedisJobStore;
  let two: RedisJobStore;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });
  beforeEach(async () => {
    const prefix = `shared-${randomUUID()}:`;
    [one, two] = await Promise.all([RedisJobStore.open(redis.url, { prefix }), RedisJobStore.open(redis.url, { prefix })]);
  });
  afterEach(async () => {
    await Promise.all([one.close(), two.close()]);
  });

  it('offers each queued job once when both controllers poll the same node at the same time', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `j${i}`);
    for (const id of ids) await one.create({ job: mkJob(id), targets: [A] }, T0);
    const polls = Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).offerNext(A, () => randomUUID(), T0 + 1000, 5));
    const offered = (await Promise.all(polls)).flat().map((o) => o.id);
    expect(offered.length).toBe(60);
    expect(new Set(offered).size).toBe(60);
    expect(await two.queueLengths()).toEqual(new Map([['1_10', 60]]));
  });

  it('stores an id once when both controllers are handed it at the same time', async () => {
    const made = await Promise.allSettled([one, two, one, two].map((s) => s.create({ job: mkJob('same'), targets: [A] }, T0)));
    expect(made.filter((m) => m.status === 'fulfilled')).toHaveLength(1);
    for (const m of made.filter((m) => m.status === 'rejected')) expect((m as PromiseRejectedResult).reason).toSatisfy((e) => isCoxError(e, Errors.DUPLICATE_ID));
  });

  it("lets an acknowledgement and a lease sweep race: the job is either running or queued again, never both", async () => {
    for (let round = 0; round < 20; round++) {
      const id = `race${round}`;
      await one.create({ job: mkJob(id), targets: [A] }, T0);
      const [o] = await one.offerNext(A, () => `lease-${round}`, T0 + 1000, 1);
      const [acked, sweep] = await Promise.all([one.ack(A, [{ id, lease: o!.lease }], T0 + 999), two.expireLeases(T0 + 1001, 2, 100)]);
      const view = await two.get(id);
      const requeued = sweep.reoffered.some((r) => r.id === id);
      expect(acked[0] !== requeued).toBe(true);
      expect(view!.state).toBe(acked[0] ? 'RUNNING' : 'QUEUED');
      await one.complete(A, [mkResult(id, A)], T0 + 1002);
    }
  });

  it('never decides from a copy of a job that the other controller changed since', async () => {
    await one.create({ job: mkJob('c'), targets: [A] }, T0);
    await one.offerNext(A, () => 'first', T0 + 1000, 1);
    // Through the other controller: the lease expires, the job is offered again under a new one.
    await two.expireLeases(T0 + 1001, 2, 10);
    await two.offerNext(A, () => 'second', T0 + 3000, 1);
    // The first controller last saw the job offered under 'first'.
    expect(await one.ack(A, [{ id: 'c', lease: 'first' }], T0 + 1002)).toEqual([false]);
    expect(await one.ack(A, [{ id: 'c', lease: 'second' }], T0 + 1003)).toEqual([true]);
    expect((await two.get('c'))!.state).toBe('RUNNING');
    // The result comes through the first controller, which last wrote the job RUNNING itself.
    await one.complete(A, [mkResult('c', A)], T0 + 1004);
    expect((await two.get('c'))!.state).toBe('SUCCESS');
  });

  it("wakes the other controller's polls and waiting clients", async () => {
    const heard: StoreEvent[] = [];
    two.subscribe((e) => heard.push(e));
    await one.create({ job: mkJob('w'), targets: [A] }, T0);
    await waitUntil(() => heard.length >= 1, 5000, 'the work event on the other controller');
    expect(heard).toEqual([{ kind: 'work', node: A }]);
    const [o] = await two.offerNext(A, () => 'l', T0 + 1000, 1);
    await two.ack(A, [{ id: 'w', lease: o!.lease }], T0 + 1);
    const mine: StoreEvent[] = [];
    two.subscribe((e) => mine.push(e));
    await one.complete(A, [mkResult('w', A)], T0 + 2);
    await waitUntil(() => mine.length >= 1, 5000, 'the done event on the other controller');
    expect(mine).toEqual([{ kind: 'done', id: 'w' }]);
    expect((await two.get('w'))!.state).toBe('SUCCESS');
  });

  it('does not drop a session that polled through the other controller since the sweep read it', async () => {
    await one.touch(A, ['storage'], T0);
    await one.create({ job: mkJob('r'), targets: [A] }, T0);
    const [o] = await one.offerNext(A, () => 'l', T0 + 1000, 1);
    await one.ack(A, [{ id: 'r', lease: o!.lease }], T0 + 1);
    const [lost] = await Promise.all([two.expireSessions(T0 + 100, T0 + 100, 10), one.touch(A, ['storage'], T0 + 200)]);
    const sessions = await two.sessions(0);
    if (lost.length === 0) {
      expect(sessions).toMatchObject([{ ...A, lastSeen: T0 + 200 }]);
      expect((await two.get('r'))!.state).toBe('RUNNING');
    } else {
      // The sweep committed first: the node was lost with its running job, then polled again.
      expect((await two.get('r'))!.results).toMatchObject([{ state: 'ERROR', data: 'agent 1_10 lost' }]);
    }
  });

  it('brings back the session and the announced cores of a node whose poll is held, once Redis comes back without its data', async () => {
    const polling = new Controller({ store: one, logger: pino({ level: 'silent' }), pollTimeoutMs: 60_000, ttlMs: 30_000, ackTimeoutMs: 10_000 });
    const admin = new Redis({ path: redis.socket });
    try {
      const held = polling.poll(A, ['storage'], 30_000);
      await waitUntil(async () => (await two.sessions(0)).length === 1, 5000, 'the session');
      await polling.processes.connected(A, { name: 'startup', cores: [[0, 2], [1, 3]] });
      // What a Redis restarted without persistence looks like: empty, and every connection cut.
      await admin.flushall();
      await admin.client('KILL', 'TYPE', 'pubsub');
      await waitUntil(async () => (await two.sessions(0)).length === 1, 5000, 'the session to come back');
      expect(await two.sessions(0)).toMatchObject([{ ...A, roles: ['storage'] }]);
      // The agent announced its cores once, when it connected: they come back from the controller.
      await waitUntil(async () => (await two.processes.cores([A])).size === 1, 5000, 'the cores to come back');
      expect(Object.fromEntries(await two.processes.cores([A]))).toEqual({ '1_10': [[0, 2], [1, 3]] });
      polling.close();
      await held;
    } finally {
      admin.disconnect();
      polling.close();
    }
  });

  it('has every waiter look again once its cut event feed is back: a poll gets the job submitted meanwhile', async () => {
    const log = pino({ level: 'silent' });
    const opts = { logger: log, pollTimeoutMs: 60_000, ttlMs: 30_000, ackTimeoutMs: 10_000 };
    const polling = new Controller({ store: one, ...opts });
    const submitting = new Controller({ store: two, ...opts });
    const admin = new Redis({ path: redis.socket });
    try {
      // The node's first poll makes it a live session for both controllers.
      expect(await polling.poll(A, [], 0)).toEqual([]);
      await submitting.submit({ cmd: 'execute', gid: 1, nid: 10, id: 'before' });
      expect((await polling.poll(A, [], 30_000)).map((o) => o.id)).toEqual(['before']);
      const waiting = polling.waitFor('before', 30_000);
      const next = polling.poll(A, [], 30_000);
      // Every subscriber connection is cut; the job submitted now is announced to no one.
      await admin.client('KILL', 'TYPE', 'pubsub');
      await submitting.submit({ cmd: 'execute', gid: 1, nid: 10, id: 'unheard' });
      const offers = await Promise.race([next, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
      expect(offers?.map((o) => o.id)).toEqual(['unheard']);
      // The client waiting for the first job was woken too, and waits on: its job has not ended.
      const early = await Promise.race([waiting, new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), 100))]);
      expect(early).toBe('still waiting');
    } finally {
      admin.disconnect();
      polling.close();
      submitting.close();
    }
  });
});

describe('Redis store when Redis is down', () => {
  it('fails calls as COX_STORE_UNAVAILABLE within seconds, naming the Redis', async () => {
    const redis = await startRedis();
    const store = await RedisJobStore.open(redis.url, { prefix: 'down:' });
    try {
      await store.create({ job: mkJob('kept'), targets: [A] }, T0);
      redis.proc.kill('SIGKILL');
      const started = Date.now();
      await expect(store.get('kept')).rejects.toMatchObject({ code: 'COX_STORE_UNAVAILABLE', statusCode: 503 });
      await expect(store.ping()).rejects.toMatchObject({ code: 'COX_STORE_UNAVAILABLE' });
      await expect(store.get('kept')).rejects.toThrow(/the store is unavailable: Redis at unix:\/\/.*: (no connection|connect ENOENT)/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await store.close();
      await redis.stop();
    }
  });
});
