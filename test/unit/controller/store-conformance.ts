/**
 * The JobStore contract, as one suite every backend runs (BullMQ's pattern): call
 * `storeConformance(name, factory)` from a backend's test file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobStore, NodeKey, StoreEvent } from '../../../src/controller/store/job-store.js';
import { job as jobSchema, type Job, type Result } from '../../../src/protocol/job.js';
import { isCoxError, Errors } from '../../../src/shared/errors.js';

export interface StoreFixture {
  store: JobStore;
  /** Closes the store and opens the same data again, as a restarted controller does. */
  reopen: () => Promise<JobStore>;
  cleanup: () => Promise<void>;
}

const A: NodeKey = { gid: 1, nid: 10 };
const B: NodeKey = { gid: 1, nid: 11 };
const T0 = 1_700_000_000_000;

export const mkJob = (id: string, extra: Partial<Job> = {}): Job => jobSchema.parse({ id, cmd: 'execute', args: { name: 'true' }, ...extra });
export const mkResult = (id: string, node: NodeKey, state: Result['state'] = 'SUCCESS'): Result => ({
  id, ...node, cmd: 'execute', data: 'ok', level: 20, state, starttime: T0, time: 5, streams: ['out', ''], critical: '', tags: '',
});

export function storeConformance(name: string, factory: () => Promise<StoreFixture>): void {
  describe(`JobStore conformance: ${name}`, () => {
    let f: StoreFixture;
    let store: JobStore;
    let events: StoreEvent[];
    const watch = (s: JobStore) => s.subscribe((e) => events.push(e));
    beforeEach(async () => {
      f = await factory();
      store = f.store;
      events = [];
      watch(store);
    });
    afterEach(async () => {
      await store.close();
      await f.cleanup();
    });

    /** The single forms, on top of the batched store calls. */
    const offer = async (node: NodeKey, lease: string, now = T0, ttl = 1000) => (await store.offerNext(node, () => lease, now + ttl, 1))[0] ?? null;
    const ack = async (node: NodeKey, id: string, lease: string, now: number): Promise<boolean | undefined> => (await store.ack(node, [{ id, lease }], now))[0];
    const complete = async (node: NodeKey, result: Result, now: number): Promise<boolean | undefined> => (await store.complete(node, [result], now))[0];

    it('stores a job, refuses its id again, and fails at once a job with no target', async () => {
      await store.ping();
      const view = await store.create({ job: mkJob('j1'), targets: [A] }, T0);
      expect(view).toMatchObject({ state: 'QUEUED', created: T0, finished: null, results: [] });
      await expect(store.create({ job: mkJob('j1'), targets: [B] }, T0)).rejects.toSatisfy((e) => isCoxError(e, Errors.DUPLICATE_ID));
      const failed = await store.create({ job: mkJob('j2', { nid: 99 }), targets: [], failure: 'no matching connected agents' }, T0);
      expect(failed.state).toBe('ERROR');
      expect(failed.finished).toBe(T0);
      expect(failed.results).toMatchObject([{ id: 'j2', nid: 99, state: 'ERROR', data: 'no matching connected agents' }]);
      expect(events).toEqual([{ kind: 'work', node: A }, { kind: 'done', id: 'j2' }]);
      expect(await store.get('nope')).toBeNull();
    });

    it('stores submits made together; a duplicate id fails only its own', async () => {
      const made = await Promise.allSettled(['a', 'a', 'b'].map((id) => store.create({ job: mkJob(id), targets: [A] }, T0)));
      expect(made.map((m) => m.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((made[1] as PromiseRejectedResult).reason).toSatisfy((e) => isCoxError(e, Errors.DUPLICATE_ID));
      expect((await store.list({ limit: 10 })).map((j) => j.job.id)).toEqual(['b', 'a']);
      expect(await store.queueLengths()).toEqual(new Map([['1_10', 2]]));
      expect(events).toEqual([{ kind: 'work', node: A }, { kind: 'work', node: A }]);
    });

    it("offers a node's jobs oldest first, urgent ones ahead, each once, stamped with the node", async () => {
      for (const id of ['a', 'b']) await store.create({ job: mkJob(id, { roles: ['x'] }), targets: [A] }, T0);
      await store.create({ job: mkJob('other'), targets: [B] }, T0);
      await store.create({ job: mkJob('kill', { cmd: 'kill' }), targets: [A], urgent: true }, T0);
      const ids = [];
      for (let o = await offer(A, 'l1'); o; o = await offer(A, `l${ids.length + 2}`)) ids.push(o.id);
      expect(ids).toEqual(['kill', 'a', 'b']);
      const o = await offer(B, 'lb');
      expect(o).toMatchObject({ id: 'other', gid: 1, nid: 11, lease: 'lb', cmd: 'execute' });
      expect(await offer(B, 'lb2')).toBeNull();
    });

    it('acknowledges only the current, unexpired lease of that node', async () => {
      await store.create({ job: mkJob('j'), targets: [A] }, T0);
      await offer(A, 'good', T0, 1000);
      expect(await ack(A, 'j', 'bad', T0 + 1)).toBe(false);
      expect(await ack(B, 'j', 'good', T0 + 1)).toBe(false);
      expect(await ack(A, 'j', 'good', T0 + 2000)).toBe(false);
      expect(await ack(A, 'j', 'good', T0 + 10)).toBe(true);
      // The same acknowledgement again (its reply was lost) gets the same answer; another lease does not.
      expect(await ack(A, 'j', 'good', T0 + 11)).toBe(true);
      expect(await ack(A, 'j', 'bad', T0 + 11)).toBe(false);
      expect((await store.get('j'))!.state).toBe('RUNNING');
    });

    it('stores a job already offered to a waiting poll, and takes such an offer back into the queue', async () => {
      const view = await store.create({ job: mkJob('h'), targets: [A], offer: { lease: 'handed', expiresAt: T0 + 1000 } }, T0);
      expect(view.state).toBe('QUEUED');
      // Nothing is queued for another poll to take, and no poll is woken for it.
      expect(events).toEqual([]);
      expect(await store.offerNext(A, () => 'other', T0 + 1000, 5)).toEqual([]);
      expect(await store.queueLengths()).toEqual(new Map([['1_10', 1]]));
      expect(await ack(A, 'h', 'handed', T0 + 1)).toBe(true);
      expect((await store.get('h'))!.state).toBe('RUNNING');

      await store.create({ job: mkJob('w'), targets: [A], offer: { lease: 'lost', expiresAt: T0 + 1000 } }, T0);
      expect(await store.withdrawOffer('w', A, 'wrong')).toBe(false);
      expect(await store.withdrawOffer('w', B, 'lost')).toBe(false);
      expect(await store.withdrawOffer('w', A, 'lost')).toBe(true);
      expect(await store.withdrawOffer('w', A, 'lost')).toBe(false);
      expect(events).toEqual([{ kind: 'work', node: A }]);
      expect(await ack(A, 'w', 'lost', T0 + 1)).toBe(false);
      expect((await store.offerNext(A, () => 'again', T0 + 1000, 5)).map((o) => [o.id, o.lease])).toEqual([['w', 'again']]);
      // The withdrawn offer does not count: unacknowledged, this one is still re-offered once.
      expect(await store.expireLeases(T0 + 2000, 2, 10)).toMatchObject({ reoffered: [{ id: 'w' }], failed: [] });
    });

    it('offers up to max jobs to one poll, in queue order, each under its own lease', async () => {
      for (const id of ['a', 'b', 'c']) await store.create({ job: mkJob(id), targets: [A] }, T0);
      await store.create({ job: mkJob('kill', { cmd: 'kill' }), targets: [A], urgent: true }, T0);
      let n = 0;
      const offers = await store.offerNext(A, () => `l${++n}`, T0 + 1000, 3);
      expect(offers.map((o) => [o.id, o.lease, o.nid])).toEqual([['kill', 'l1', 10], ['a', 'l2', 10], ['b', 'l3', 10]]);
      expect((await store.offerNext(A, () => 'l9', T0 + 1000, 5)).map((o) => o.id)).toEqual(['c']);
      expect(await store.offerNext(A, () => 'l10', T0 + 1000, 5)).toEqual([]);
      expect(await store.queueLengths()).toEqual(new Map([['1_10', 4]]));
    });

    it('offers a poll that takes urgent jobs only just those, in order, and leaves the rest queued', async () => {
      await store.create({ job: mkJob('a'), targets: [A] }, T0);
      await store.create({ job: mkJob('k1', { cmd: 'kill' }), targets: [A], urgent: true }, T0 + 1);
      await store.create({ job: mkJob('b'), targets: [A] }, T0 + 2);
      await store.create({ job: mkJob('k2', { cmd: 'kill' }), targets: [A], urgent: true }, T0 + 3);
      await store.create({ job: mkJob('kb', { cmd: 'kill' }), targets: [B], urgent: true }, T0 + 4);
      const urgent = async (max: number) => (await store.offerNext(A, () => `l-${Math.random()}`, T0 + 1000, max, true)).map((o) => o.id);
      expect(await urgent(1)).toEqual(['k1']);
      expect(await urgent(5)).toEqual(['k2']);
      expect(await urgent(5)).toEqual([]);
      expect((await store.offerNext(A, () => 'l', T0 + 1000, 5)).map((o) => o.id)).toEqual(['a', 'b']);
    });

    it('acknowledges a batch item by item: a stale lease fails alone, a repeated one is answered alike', async () => {
      for (const id of ['a', 'b', 'c']) await store.create({ job: mkJob(id), targets: [A] }, T0);
      const [a, b, c] = await store.offerNext(A, () => `l-${Math.random()}`, T0 + 1000, 3);
      const batch = [{ id: a!.id, lease: a!.lease }, { id: 'b', lease: 'stale' }, { id: 'ghost', lease: 'x' }, { id: c!.id, lease: c!.lease }];
      expect(await store.ack(A, batch, T0 + 1)).toEqual([true, false, false, true]);
      expect(await store.ack(A, [{ id: 'a', lease: a!.lease }, { id: 'b', lease: b!.lease }], T0 + 2)).toEqual([true, true]);
      expect(await store.ack(B, [{ id: 'c', lease: c!.lease }], T0 + 2)).toEqual([false]);
      expect((await store.list({ state: 'RUNNING', limit: 10 })).map((j) => j.job.id)).toEqual(['c', 'b', 'a']);
    });

    it('stores a batch of results item by item: one for a job never given fails alone', async () => {
      for (const id of ['a', 'b', 'never']) await store.create({ job: mkJob(id), targets: [A] }, T0);
      const offers = await store.offerNext(A, () => `l-${Math.random()}`, T0 + 1000, 2);
      await store.ack(A, offers.map(({ id, lease }) => ({ id, lease })), T0);
      events = [];
      const batch = [mkResult('a', A, 'RUNNING'), mkResult('a', A), mkResult('never', A), mkResult('b', A, 'ERROR'), mkResult('ghost', A)];
      expect(await store.complete(A, batch, T0 + 5)).toEqual([true, true, false, true, false]);
      expect(await store.get('a')).toMatchObject({ state: 'SUCCESS', finished: T0 + 5 });
      expect(await store.get('b')).toMatchObject({ state: 'ERROR', results: [{ state: 'ERROR' }] });
      expect(await store.get('never')).toMatchObject({ state: 'QUEUED', results: [] });
      expect(events).toEqual([{ kind: 'done', id: 'a' }, { kind: 'done', id: 'b' }]);
    });

    it('offers an unacknowledged job once more, ahead of newer jobs and in order, then fails it', async () => {
      for (const id of ['a', 'b', 'c']) await store.create({ job: mkJob(id), targets: [A] }, T0);
      await offer(A, 'la');
      await offer(A, 'lb');
      expect(await store.expireLeases(T0 + 500, 2, 100)).toEqual({ reoffered: [], failed: [] });
      events = [];
      expect(await store.expireLeases(T0 + 1001, 2, 100)).toEqual({ reoffered: [{ id: 'a', ...A }, { id: 'b', ...A }], failed: [] });
      expect(events).toContainEqual({ kind: 'work', node: A });
      expect((await offer(A, 'la2', T0 + 2000))!.id).toBe('a');
      expect((await offer(A, 'lb2', T0 + 2000))!.id).toBe('b');
      expect(await ack(A, 'a', 'la', T0 + 2001)).toBe(false);
      expect(await ack(A, 'b', 'lb2', T0 + 2001)).toBe(true);
      expect(await store.expireLeases(T0 + 5000, 2, 100)).toEqual({ reoffered: [], failed: [{ id: 'a', ...A }] });
      const a = (await store.get('a'))!;
      expect(a.state).toBe('ERROR');
      expect(a.results[0]!.data).toBe('agent 1_10 did not acknowledge the job after 2 offers');
      expect(events).toContainEqual({ kind: 'done', id: 'a' });
      expect((await offer(A, 'lc', T0 + 5000))!.id).toBe('c');
    });

    it('accepts a result only from a node the job was offered to', async () => {
      await store.create({ job: mkJob('j'), targets: [A] }, T0);
      expect(await complete(A, mkResult('j', A), T0)).toBe(false);
      expect(await complete(A, mkResult('ghost', A), T0)).toBe(false);
      await offer(A, 'l');
      expect(await complete(B, mkResult('j', B), T0)).toBe(false);
      expect((await store.get('j'))!.state).toBe('QUEUED');
      expect(await complete(A, mkResult('j', A, 'RUNNING'), T0)).toBe(true);
      expect((await store.get('j'))!.state).toBe('RUNNING');
      expect(await complete(A, mkResult('j', A), T0 + 5)).toBe(true);
      const view = (await store.get('j'))!;
      expect(view).toMatchObject({ state: 'SUCCESS', finished: T0 + 5, results: [{ data: 'ok', state: 'SUCCESS' }] });
      expect(events).toContainEqual({ kind: 'done', id: 'j' });
    });

    it('ends a re-queued job on its late result instead of offering it again', async () => {
      await store.create({ job: mkJob('j'), targets: [A] }, T0);
      await offer(A, 'l');
      await store.expireLeases(T0 + 2000, 2, 100);
      expect(await complete(A, mkResult('j', A), T0 + 2001)).toBe(true);
      expect(await offer(A, 'l2', T0 + 2002)).toBeNull();
    });

    it('keeps one delivery and one result per node of a fanout job', async () => {
      await store.create({ job: mkJob('f', { fanout: true, roles: ['*'] }), targets: [B, A] }, T0);
      expect(await store.queueLengths()).toEqual(new Map([['1_10', 1], ['1_11', 1]]));
      const oa = (await offer(A, 'la'))!;
      const ob = (await offer(B, 'lb'))!;
      expect([oa.id, oa.nid, ob.id, ob.nid]).toEqual(['f', 10, 'f', 11]);
      await ack(A, 'f', 'la', T0);
      await complete(A, mkResult('f', A), T0);
      expect((await store.get('f'))!.state).toBe('RUNNING');
      await complete(B, mkResult('f', B, 'ERROR'), T0);
      const view = (await store.get('f'))!;
      expect(view.state).toBe('ERROR');
      expect(view.results.map((r) => [r.nid, r.state])).toEqual([[10, 'SUCCESS'], [11, 'ERROR']]);
    });

    it('counts queued and offered deliveries per node through every transition', async () => {
      const lengths = async () => Object.fromEntries(await store.queueLengths());
      for (const id of ['a', 'b', 'c']) await store.create({ job: mkJob(id), targets: [A] }, T0);
      await store.create({ job: mkJob('f', { fanout: true }), targets: [A, B] }, T0);
      expect(await lengths()).toEqual({ '1_10': 4, '1_11': 1 });
      await offer(A, 'la');
      await offer(A, 'lb');
      expect(await lengths()).toEqual({ '1_10': 4, '1_11': 1 });
      await ack(A, 'a', 'la', T0);
      await store.expireLeases(T0 + 5000, 2, 100);
      expect(await lengths()).toEqual({ '1_10': 3, '1_11': 1 });
      await store.kill('c', T0);
      await complete(A, mkResult('b', A), T0);
      expect(await lengths()).toEqual({ '1_10': 1, '1_11': 1 });
      await store.kill('f', T0);
      expect(await lengths()).toEqual({});
    });

    it('kills queued deliveries at once and names the nodes that hold the job', async () => {
      await store.create({ job: mkJob('q'), targets: [A] }, T0);
      const killed = (await store.kill('q', T0 + 1))!;
      expect(killed.holders).toEqual([]);
      expect(killed.view).toMatchObject({ state: 'KILLED', results: [{ state: 'KILLED', data: 'killed before it was delivered' }] });
      expect(await offer(A, 'l')).toBeNull();
      await store.create({ job: mkJob('r'), targets: [A] }, T0);
      await offer(A, 'lr');
      await ack(A, 'r', 'lr', T0);
      const running = (await store.kill('r', T0 + 1))!;
      expect(running).toMatchObject({ holders: [A], view: { state: 'RUNNING' } });
      expect(await store.kill('ghost', T0)).toBeNull();
    });

    it('keeps sessions; dropping a silent node ends its running jobs and keeps its queue', async () => {
      await store.touch(A, ['storage'], T0);
      await store.touch(B, [], T0);
      await store.touch(A, ['storage', 'db'], T0 + 10);
      expect(await store.sessions(T0)).toEqual([{ ...A, roles: ['storage', 'db'], lastSeen: T0 + 10 }, { ...B, roles: [], lastSeen: T0 }]);
      for (const id of ['run', 'wait']) await store.create({ job: mkJob(id), targets: [A] }, T0);
      await offer(A, 'l');
      await ack(A, 'run', 'l', T0);
      await store.keepAlive([B], T0 + 50);
      expect(await store.expireSessions(T0 + 20, T0 + 60, 100)).toEqual([A]);
      expect((await store.sessions(0)).map((s) => s.nid)).toEqual([11]);
      expect(await store.get('run')).toMatchObject({ state: 'ERROR', results: [{ data: 'agent 1_10 lost' }] });
      expect((await store.get('wait'))!.state).toBe('QUEUED');
      expect(await store.queueLengths()).toEqual(new Map([['1_10', 1]]));
    });

    it('keeps logs, the newest stats per node and scripts by hash', async () => {
      await store.appendLogs(A, [1, 2, 3].map((mid) => ({ id: mid < 3 ? 'j' : 'k', mid, level: 1, message: `m${mid}`, epoch: T0 })), T0);
      expect((await store.logs({ id: 'j', limit: 10 })).map((l) => l.message)).toEqual(['m1', 'm2']);
      expect((await store.logs({ id: 'j', limit: 1 })).map((l) => l.message)).toEqual(['m2']);
      expect(await store.logs({ node: B, limit: 10 })).toEqual([]);
      for (let i = 0; i < 5; i++) await store.putStats(A, { timestamp: i, series: [['cpu', i]] }, T0, 3);
      const stats = await store.stats(A);
      expect(stats.latest).toEqual({ timestamp: 4, series: [['cpu', 4]] });
      expect(stats.history.map((s) => s.timestamp)).toEqual([2, 3, 4]);
      expect(await store.stats(B)).toEqual({ latest: null, history: [] });
      await store.putScript('ab'.repeat(32), 'echo hi', T0);
      expect(await store.script('ab'.repeat(32))).toBe('echo hi');
      expect(await store.script('cd'.repeat(32))).toBeNull();
    });

    it('prunes finished jobs, logs and scripts past retention, a bounded number per call', async () => {
      for (const id of ['a', 'b', 'c']) await store.create({ job: mkJob(id), targets: [] }, T0);
      await store.create({ job: mkJob('live'), targets: [A] }, T0);
      await store.appendLogs(A, [{ id: 'a', mid: 1, level: 1, message: 'x', epoch: T0 }], T0);
      await store.putScript('ab'.repeat(32), 'x', T0);
      expect(await store.prune(T0, 100)).toBe(0);
      expect(await store.prune(T0 + 1, 2)).toBe(4);
      expect(await store.prune(T0 + 1, 2)).toBe(1);
      expect((await store.list({ limit: 10 })).map((j) => j.job.id)).toEqual(['live']);
      expect(await store.logs({ limit: 10 })).toEqual([]);
      expect(await store.script('ab'.repeat(32))).toBeNull();
    });

    it('lists jobs newest first, by state', async () => {
      await store.create({ job: mkJob('a'), targets: [A] }, T0);
      await store.create({ job: mkJob('b'), targets: [] }, T0);
      await store.create({ job: mkJob('c'), targets: [A] }, T0);
      expect((await store.list({ limit: 10 })).map((j) => j.job.id)).toEqual(['c', 'b', 'a']);
      expect((await store.list({ state: 'QUEUED', limit: 1 })).map((j) => j.job.id)).toEqual(['c']);
      expect((await store.list({ state: 'ERROR', limit: 10 })).map((j) => [j.job.id, j.state])).toEqual([['b', 'ERROR']]);
    });

    it('counts jobs per state as they move, until finished ones are pruned', async () => {
      const counts = async () => Object.fromEntries(await store.jobCounts());
      expect(await counts()).toEqual({});
      for (const id of ['a', 'b', 'c']) await store.create({ job: mkJob(id), targets: [A] }, T0);
      await store.create({ job: mkJob('nowhere'), targets: [], failure: 'no matching connected agents' }, T0);
      expect(await counts()).toEqual({ QUEUED: 3, ERROR: 1 });
      await offer(A, 'la');
      await ack(A, 'a', 'la', T0);
      expect(await counts()).toEqual({ QUEUED: 2, RUNNING: 1, ERROR: 1 });
      await complete(A, mkResult('a', A), T0 + 1);
      await store.kill('b', T0 + 1);
      expect(await counts()).toEqual({ QUEUED: 1, SUCCESS: 1, KILLED: 1, ERROR: 1 });
      await store.prune(T0 + 1, 100);
      expect(await counts()).toEqual({ QUEUED: 1, SUCCESS: 1, KILLED: 1 });
    });

    it('forgets nothing when reopened: queues, leases, sessions', async () => {
      await store.touch(A, ['r'], T0);
      for (const id of ['a', 'b']) await store.create({ job: mkJob(id), targets: [A] }, T0);
      await offer(A, 'la');
      store = await f.reopen();
      expect((await store.sessions(T0)).map((s) => s.roles)).toEqual([['r']]);
      expect(await ack(A, 'a', 'la', T0 + 1)).toBe(true);
      expect((await offer(A, 'lb'))!.id).toBe('b');
      expect(await offer(A, 'lx')).toBeNull();
    });
  });
}
