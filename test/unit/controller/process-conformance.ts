/**
 * The named-process half of the store contract (ProcessStore and what JobStore does to processes),
 * as a suite every backend runs, like store-conformance.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobStore, NodeKey } from '../../../src/controller/store/job-store.js';
import { job as jobSchema } from '../../../src/protocol/job.js';
import { EXIT_LOST, EXIT_NOT_STARTED, START_PROCESS, type ProcessExit } from '../../../src/protocol/process.js';
import { Errors, isCoxError } from '../../../src/shared/errors.js';
import type { StoreFixture } from './store-conformance.js';

const A: NodeKey = { gid: 1, nid: 10 };
const B: NodeKey = { gid: 1, nid: 11 };
const T0 = 1_700_000_000_000;

const spec = (name: string) => ({ name, work_dir: '/tmp', args: ['/bin/true'], env: {}, stdout: '/tmp/o', stderr: '/tmp/e' });
const exit = (id: string, code: number, ended = T0 + 10): ProcessExit => ({ id, name: id, exit_code: code, reason: '', ended });

export function processConformance(name: string, factory: () => Promise<StoreFixture>): void {
  describe(`ProcessStore conformance: ${name}`, () => {
    let f: StoreFixture;
    let store: JobStore;
    beforeEach(async () => {
      f = await factory();
      store = f.store;
    });
    afterEach(async () => {
      await store.close();
      await f.cleanup();
    });

    /** Starts process `id` (also its name unless given) on `node`. */
    const start = (id: string, node = A, name = id) =>
      store.create({ job: jobSchema.parse({ id, cmd: START_PROCESS, ...node, args: spec(name) }), targets: [node], process: { name, spec: spec(name) } }, T0);
    /** The agent polls and acknowledges the node's next start. */
    const take = async (node = A) => {
      const [o] = await store.offerNext(node, () => `l-${Math.random()}`, T0 + 1000, 1);
      expect(await store.ack(node, [{ id: o!.id, lease: o!.lease }], T0 + 1)).toEqual([true]);
      return o!.id;
    };
    const states = async () => Object.fromEntries((await store.processes.list(100)).map((p) => [p.id, [p.state, p.exit_code]]));

    it('stores a process with its start job, refuses its name on that node until it finished', async () => {
      await start('p1');
      await expect(start('p1b', A, 'p1')).rejects.toSatisfy((e) => isCoxError(e, Errors.NAME_RUNNING));
      // Refused among starts stored together: its job is undone with it, the others stay.
      const together = await Promise.allSettled([start('p1c', A, 'p1'), start('p9')]);
      expect(together.map((t) => t.status)).toEqual(['rejected', 'fulfilled']);
      expect([await store.get('p1c'), (await store.get('p9'))?.state]).toEqual([null, 'QUEUED']);
      expect(await store.get('p1b')).toBeNull();
      await start('p1-on-b', B, 'p1');
      expect(await states()).toEqual({ p1: ['starting', null], p9: ['starting', null], 'p1-on-b': ['starting', null] });
      await take();
      expect((await states()).p1).toEqual(['running', null]);
      expect(await store.processes.report(A, [exit('p1', 0)])).toEqual(['p1']);
      expect((await states()).p1).toEqual(['finished', 0]);
      await start('p1-again', A, 'p1');
    });

    it('hands each finished process out once; the same key answers the same batch again', async () => {
      for (const id of ['a', 'b', 'c']) await start(id);
      for (let i = 0; i < 3; i++) await take();
      await store.processes.report(A, [exit('b', 2, T0 + 5), exit('a', 1, T0 + 9)]);
      const first = await store.processes.take('k1', 100);
      expect(first.map((p) => [p.name, p.exit_code, p.node])).toEqual([['b', 2, '1_10'], ['a', 1, '1_10']]);
      expect(await store.processes.take('k1', 100)).toEqual(first);
      expect(await store.processes.take('k2', 100)).toEqual([]);
      await store.processes.report(A, [exit('c', 0)]);
      const reopened = await f.reopen();
      store = reopened;
      expect((await store.processes.take('k3', 100)).map((p) => p.name)).toEqual(['c']);
      expect(await store.processes.take('k1', 100)).toEqual(first);
    });

    it("acknowledges repeated, unknown and other nodes' reports without storing them twice", async () => {
      await start('p');
      await take();
      expect(await store.processes.report(A, [exit('p', 3)])).toEqual(['p']);
      expect(await store.processes.report(A, [exit('p', 3), exit('ghost', 1)])).toEqual(['p', 'ghost']);
      expect(await store.processes.report(B, [exit('p', 9)])).toEqual(['p']);
      expect((await store.processes.take('k', 100)).map((p) => p.exit_code)).toEqual([3]);
    });

    it('ends a lost node’s processes lost and the starts it never took not started; the agent’s word wins until handed out', async () => {
      for (const id of ['ran', 'late', 'queued']) await start(id);
      await take();
      await take();
      await store.touch(A, [], T0);
      expect(await store.expireSessions(T0 + 1, T0 + 2, 10)).toEqual([A]);
      expect(await states()).toEqual({ ran: ['finished', EXIT_LOST], late: ['finished', EXIT_LOST], queued: ['finished', EXIT_NOT_STARTED] });
      expect((await store.get('queued'))!.state).toBe('KILLED');
      expect(await store.offerNext(A, () => 'l', T0 + 5000, 1)).toEqual([]);
      // `ran`'s real end comes before anything was handed out: it replaces the verdict.
      await store.processes.report(A, [exit('ran', 0)]);
      const first = await store.processes.take('k1', 100);
      expect(first.map((p) => [p.name, p.exit_code])).toEqual([['late', EXIT_LOST], ['queued', EXIT_NOT_STARTED], ['ran', 0]]);
      expect(first[1]!.reason).toBe('not started: agent 1_10 was lost (not seen within the TTL) before it took the start');
      // `late`'s comes after it was handed out lost: acknowledged, not handed out again.
      expect(await store.processes.report(A, [exit('late', 4)])).toEqual(['late']);
      expect(await store.processes.take('k2', 100)).toEqual([]);
      expect((await states()).late).toEqual(['finished', EXIT_LOST]);
    });

    it('ends NOT_STARTED a process whose start was killed, never acknowledged, or refused', async () => {
      await start('killed');
      await store.kill('killed', T0);
      await start('unacked');
      for (let i = 0; i < 2; i++) {
        await store.offerNext(A, () => `l${i}`, T0 + 10, 1);
        await store.expireLeases(T0 + 100, 2, 10);
      }
      await start('refused');
      const [o] = await store.offerNext(A, () => 'lr', T0 + 1000, 1);
      await store.ack(A, [{ id: o!.id, lease: o!.lease }], T0 + 1);
      await store.complete(A, [{ id: 'refused', ...A, cmd: START_PROCESS, data: '', level: 0, state: 'UNKNOWN_CMD', starttime: T0, time: 0, streams: ['', ''], critical: 'unknown command', tags: '' }], T0 + 2);
      const done = await store.processes.take('k', 100);
      // Oldest end first: killed at T0, refused at T0 + 2, the lease expired for good at T0 + 100.
      expect(done.map((p) => [p.name, p.exit_code])).toEqual([['killed', EXIT_NOT_STARTED], ['refused', EXIT_NOT_STARTED], ['unacked', EXIT_NOT_STARTED]]);
      expect(done[0]!.reason).toBe('not started: its start ended KILLED (killed before it was delivered)');
      expect(done[1]!.reason).toBe('not started: its start ended UNKNOWN_CMD (unknown command)');
      expect(done[2]!.reason).toBe('not started: its start ended ERROR (agent 1_10 did not acknowledge the job after 2 offers)');
      expect(await store.processes.unstarted()).toEqual([]);
    });

    it('lists unstarted processes, and on reconnection ends lost those the agent took but forgot', async () => {
      for (const id of ['known', 'forgotten', 'waiting']) await start(id);
      await take();
      await take();
      expect(await store.processes.unstarted()).toEqual(['waiting']);
      expect(await store.processes.reconcile(A, ['known', 'something-else'], T0 + 50)).toEqual(['forgotten']);
      expect(await states()).toEqual({ known: ['running', null], forgotten: ['finished', EXIT_LOST], waiting: ['starting', null] });
    });

    it('keeps the cores each node reported, and prunes processes handed out before the retention', async () => {
      await store.processes.putCores(A, [[0, 2], [1, 3]], T0);
      await store.processes.putCores(A, [[0], [1]], T0 + 1);
      expect(await store.processes.cores([A, B])).toEqual(new Map([['1_10', [[0], [1]]]]));
      await start('old');
      await start('kept');
      await take();
      await take();
      await store.processes.report(A, [exit('old', 0, T0 + 5), exit('kept', 0, T0 + 10)]);
      await store.processes.take('k', 1);
      await store.prune(T0 + 100, 100);
      expect((await store.processes.list(10)).map((p) => p.name)).toEqual(['kept']);
    });
  });
}
