/**
 * JobStore on a Redis that several controllers share: any of them serves any agent or client.
 * Each operation is one atomic change (redis-atomic.ts) decided in TypeScript from the job
 * documents it read, so two controllers offering the same queue, or acknowledging and expiring
 * the same lease, never both win. Changes are published, so a poll or a waiting client on one
 * controller is woken by what another stored.
 *
 * Durability is Redis's own: with `appendonly yes` and `appendfsync always` it matches the SQLite
 * file's; with Redis's defaults a crash of Redis (not of a controller) loses the last second.
 */
import type { Redis } from 'ioredis';
import { JOB_STATES, TERMINAL_STATES, type Ack, type JobState, type Offer, type Result } from '../../protocol/job.js';
import { Errors } from '../../shared/errors.js';
import { leaseVerdicts, lostReason, type ExpiredLease } from '../dispatch/leases.js';
import { nodeName, type DeliveryRef, type JobStore, type JobSummary, type JobView, type KillOutcome, type LeaseSweep, type NewJob, type NodeKey, type Session, type StoreEvent } from './job-store.js';
import { RedisAtomic } from './redis-atomic.js';
import type { Change } from './redis-change.js';
import { connectRedis } from './redis-connection.js';
import { deliveryOf, endDelivery, jobIndexOps, jobView, newJobDoc, refreshState, type DeliveryDoc, type JobDoc } from './redis-job-doc.js';
import { KILLED, untakenReason, WITHDRAWN_WITH_NODE } from './verdict.js';
import { parseLeaseMember, redisKeys, type RedisKeys } from './redis-keys.js';
import { RedisProcesses } from './redis-processes.js';
import { RedisTelemetry } from './redis-telemetry.js';

export class RedisJobStore extends RedisTelemetry implements JobStore {
  readonly processes: RedisProcesses;
  readonly #index = (before: JobDoc | null, after: JobDoc | null) => jobIndexOps(this.k, before, after);
  #seq = 0;

  /** `prefix` keeps several fleets apart in one Redis. */
  static async open(url: string, opts: { prefix?: string } = {}): Promise<RedisJobStore> {
    const client = await connectRedis(url);
    let subscriber: Redis | undefined;
    try {
      subscriber = await connectRedis(url);
      const prefix = opts.prefix ?? 'cox:';
      const atomic = new RedisAtomic(client, subscriber, prefix, url);
      await atomic.listen();
      return new RedisJobStore(atomic, redisKeys(prefix), subscriber);
    } catch (err) {
      client.disconnect();
      subscriber?.disconnect();
      throw err;
    }
  }

  private constructor(
    atomic: RedisAtomic,
    k: RedisKeys,
    private readonly subscriber: Redis,
  ) {
    super(atomic, k);
    this.processes = new RedisProcesses(atomic, k);
  }

  async create(entry: NewJob, now: number): Promise<JobView> {
    const seq = this.#nextSeq(now);
    return this.atomic.run(async (change) => {
      const key = this.k.job(entry.job.id);
      if (await change.expectAbsent(key)) throw Errors.DUPLICATE_ID(entry.job.id);
      const doc = newJobDoc(entry, seq, now);
      if (entry.process) await this.processes.insertIn(change, entry.job.id, entry.targets[0]!, entry.process, now);
      this.#put(change, doc);
      for (const d of doc.deliveries) if (d.state === 'QUEUED') change.events.push({ kind: 'work', node: { gid: d.gid, nid: d.nid } });
      if (doc.failure !== null) change.events.push({ kind: 'done', id: doc.job.id });
      return jobView(doc);
    });
  }

  async get(id: string): Promise<JobView | null> {
    const doc = await this.#read(id);
    return doc ? jobView(doc) : null;
  }

  async list(filter: { state?: JobState; limit: number }): Promise<JobSummary[]> {
    const ids = await this.atomic.read((c) => c.zrevrange(filter.state ? this.k.jobsIn(filter.state) : this.k.jobs, 0, filter.limit - 1));
    const docs = await Promise.all(ids.map((id) => this.#read(id)));
    return docs.flatMap((d) => (d ? [{ job: d.job, state: d.state, created: d.created, finished: d.finished }] : []));
  }

  async jobCounts(): Promise<Map<JobState, number>> {
    const counts = await this.atomic.read((c) => Promise.all(JOB_STATES.map((s) => c.zcard(this.k.jobsIn(s)))));
    return new Map(JOB_STATES.flatMap((s, i) => (counts[i]! > 0 ? [[s, counts[i]!] as const] : [])));
  }

  offerNext(node: NodeKey, newLease: () => string, expiresAt: number, max: number, urgentOnly = false): Promise<Offer[]> {
    return this.atomic.run(async (change) => {
      const ids = await this.atomic.client.zrange(this.k.queue(nodeName(node)), 0, max - 1);
      const docs = await change.docs<JobDoc>(ids.map(this.k.job));
      const offers: Offer[] = [];
      for (const doc of docs) {
        const d = doc && deliveryOf(doc, node);
        if (!doc || d?.state !== 'QUEUED') return change.raced();
        // Urgent deliveries head the queue, so the first other one ends them. No score bound tells
        // the two apart (seqs are past 2**50 already); the document does.
        if (urgentOnly && !d.urgent) break;
        const lease = newLease();
        Object.assign(d, { state: 'OFFERED', lease, expires: expiresAt, offers: d.offers + 1 });
        this.#put(change, doc);
        offers.push({ ...doc.job, gid: node.gid, nid: node.nid, lease });
      }
      return offers;
    });
  }

  withdrawOffer(id: string, node: NodeKey, lease: string): Promise<boolean> {
    return this.atomic.run(async (change) => {
      const doc = await change.doc<JobDoc>(this.k.job(id));
      const d = doc && deliveryOf(doc, node);
      if (!doc || d?.state !== 'OFFERED' || d.lease !== lease) return false;
      Object.assign(d, { state: 'QUEUED', lease: null, expires: null, offers: d.offers - 1 });
      this.#put(change, doc);
      change.events.push({ kind: 'work', node: { gid: node.gid, nid: node.nid } });
      return true;
    });
  }

  ack(node: NodeKey, acks: readonly Ack[], now: number): Promise<boolean[]> {
    return this.atomic.run(async (change) => {
      const docs = await change.docs<JobDoc>(acks.map((a) => this.k.job(a.id)));
      return acks.map(({ lease }, i) => {
        const doc = docs[i];
        const d = doc && deliveryOf(doc, node);
        if (!doc || !d || d.lease !== lease) return false;
        if (d.state === 'RUNNING') return true;
        if (d.state !== 'OFFERED' || d.expires! < now) return false;
        // The lease stays on the running delivery, so the same acknowledgement sent again (its
        // first reply lost) is recognised and answered alike.
        Object.assign(d, { state: 'RUNNING', expires: null });
        refreshState(doc, now);
        this.#put(change, doc);
        return true;
      });
    });
  }

  async expireLeases(now: number, maxOffers: number, limit: number): Promise<LeaseSweep> {
    return this.atomic.run(async (change) => {
      const members = await this.atomic.client.zrangebyscore(this.k.leases, '-inf', `(${now}`, 'LIMIT', 0, limit);
      const refs = members.map(parseLeaseMember);
      const docs = await change.docs<JobDoc>(refs.map((r) => this.k.job(r.id)));
      const expired: (ExpiredLease & { doc: JobDoc; delivery: DeliveryDoc })[] = [];
      refs.forEach(({ node, id }, i) => {
        const doc = docs[i];
        const d = doc?.deliveries.find((x) => nodeName(x) === node);
        if (doc && d?.state === 'OFFERED' && d.expires! < now) expired.push({ id, gid: d.gid, nid: d.nid, seq: doc.seq, offers: d.offers, doc, delivery: d });
      });
      const { reoffer, fail } = leaseVerdicts(expired, maxOffers);
      for (const l of reoffer as typeof expired) {
        Object.assign(l.delivery, { state: 'QUEUED', lease: null, expires: null });
        this.#put(change, l.doc);
        change.events.push({ kind: 'work', node: { gid: l.gid, nid: l.nid } });
      }
      for (const { lease, reason } of fail as { lease: (typeof expired)[number]; reason: string }[]) {
        endDelivery(lease.doc, lease.delivery, 'ERROR', reason, now);
        await this.#refresh(change, lease.doc, now);
      }
      const ref = (l: DeliveryRef) => ({ id: l.id, gid: l.gid, nid: l.nid });
      return { reoffered: reoffer.map(ref), failed: fail.map((f) => ref(f.lease)) };
    });
  }

  complete(node: NodeKey, results: readonly Result[], now: number): Promise<boolean[]> {
    return this.atomic.run(async (change) => {
      const docs = await change.docs<JobDoc>(results.map((r) => this.k.job(r.id)));
      const taken: boolean[] = [];
      for (const [i, result] of results.entries()) {
        const doc = docs[i];
        const d = doc && deliveryOf(doc, node);
        if (!doc || !d || d.offers === 0) {
          taken.push(false);
          continue;
        }
        taken.push(true);
        const terminal = TERMINAL_STATES.has(result.state);
        // A progress report after the end changes nothing; one before it means the agent holds the job.
        if (!terminal && TERMINAL_STATES.has(d.state as JobState)) continue;
        Object.assign(d, { state: terminal ? result.state : 'RUNNING', lease: null, expires: null, result });
        await this.#refresh(change, doc, now);
      }
      return taken;
    });
  }

  async kill(id: string, now: number): Promise<KillOutcome | null> {
    return this.atomic.run(async (change) => {
      const doc = await change.doc<JobDoc>(this.k.job(id));
      if (!doc) return null;
      const holders = await this.#killUntaken(change, doc, KILLED, now);
      return { view: jobView(doc), holders };
    });
  }

  async touch(node: NodeKey, roles: string[], now: number): Promise<void> {
    await this.atomic.run(async (change) => {
      change.op('HSET', this.k.sessions, nodeName(node), JSON.stringify(roles));
      change.op('ZADD', this.k.seen, now, nodeName(node));
    });
  }

  async keepAlive(nodes: NodeKey[], now: number): Promise<void> {
    if (nodes.length === 0) return;
    await this.atomic.run(async (change) => {
      // XX GT: only sessions that exist, and never back in time.
      for (const n of nodes) change.op('ZADD', this.k.seen, 'XX', 'GT', now, nodeName(n));
    });
  }

  async sessions(since: number): Promise<Session[]> {
    const seen = await this.atomic.read((c) => c.zrangebyscore(this.k.seen, since, '+inf', 'WITHSCORES'));
    const names = seen.filter((_, i) => i % 2 === 0);
    if (names.length === 0) return [];
    const roles = await this.atomic.read((c) => c.hmget(this.k.sessions, ...names));
    return names
      .map((name, i) => ({ ...nodeOf(name), roles: JSON.parse(roles[i] ?? '[]') as string[], lastSeen: Number(seen[2 * i + 1]) }))
      .sort((a, b) => a.gid - b.gid || a.nid - b.nid);
  }

  async queueLengths(): Promise<Map<string, number>> {
    const lengths = await this.atomic.read((c) => c.hgetall(this.k.queueLengths));
    return new Map(Object.entries(lengths).flatMap(([node, n]) => (Number(n) > 0 ? [[node, Number(n)] as const] : [])));
  }

  async expireSessions(before: number, now: number, limit: number): Promise<NodeKey[]> {
    return this.atomic.run(async (change) => {
      const stale = await this.atomic.client.zrangebyscore(this.k.seen, '-inf', `(${before}`, 'LIMIT', 0, limit);
      const lost: NodeKey[] = [];
      for (const name of stale) {
        const node = nodeOf(name);
        lost.push(node);
        // A node that polled meanwhile (through any controller) is not lost after all.
        change.check(['below', this.k.seen, name, before]);
        change.op('ZREM', this.k.seen, name);
        change.op('HDEL', this.k.sessions, name);
        // A process reported lost must not start when its node comes back.
        for (const id of await this.processes.loseNodeIn(change, node, now)) {
          const doc = await change.doc<JobDoc>(this.k.job(id));
          if (doc) await this.#killUntaken(change, doc, WITHDRAWN_WITH_NODE, now);
        }
        const running = await this.atomic.client.smembers(this.k.running(name));
        for (const doc of await change.docs<JobDoc>(running.map(this.k.job))) {
          const d = doc && deliveryOf(doc, node);
          if (!doc || d?.state !== 'RUNNING') continue;
          endDelivery(doc, d, 'ERROR', lostReason(node), now);
          await this.#refresh(change, doc, now);
        }
      }
      return lost;
    });
  }

  async prune(before: number, limit: number): Promise<number> {
    const jobs = await this.atomic.run(async (change) => {
      const ids = await this.atomic.client.zrangebyscore(this.k.finished, '-inf', `(${before}`, 'LIMIT', 0, limit);
      const docs = await change.docs<JobDoc>(ids.map(this.k.job));
      for (const doc of docs) if (doc) change.put(this.k.job(doc.job.id), null, this.#index);
      return docs.filter(Boolean).length;
    });
    return jobs + (await this.pruneTelemetry(before, limit)) + (await this.processes.prune(before, limit));
  }

  async ping(): Promise<void> {
    await this.atomic.read((c) => c.ping());
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.atomic.subscribe(listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.atomic.client.quit(), this.subscriber.quit()]);
  }

  /**
   * Submission order without a round trip to Redis: the clock, with room for 1024 jobs per ms,
   * and never less than the last one this controller gave. Jobs submitted through different
   * controllers are ordered by their clocks.
   */
  #nextSeq(now: number): number {
    this.#seq = Math.max(this.#seq + 1, now * 1024);
    return this.#seq;
  }

  async #read(id: string): Promise<JobDoc | null> {
    const [json, fixed] = await this.atomic.read((c) => c.hmget(this.k.job(id), 'doc', 'fixed'));
    if (json == null) return null;
    return Object.assign(JSON.parse(json) as JobDoc, fixed == null ? {} : (JSON.parse(fixed) as Pick<JobDoc, 'job'>));
  }

  #put(change: Change, doc: JobDoc): void {
    change.put(this.k.job(doc.job.id), doc, this.#index, ['job']);
  }

  /** Recomputes the job's state and writes it; a job that just ended emits `done`, and a failed start fails its process. */
  async #refresh(change: Change, doc: JobDoc, now: number): Promise<void> {
    const ended = refreshState(doc, now);
    this.#put(change, doc);
    if (!ended) return;
    change.events.push({ kind: 'done', id: doc.job.id });
    if (doc.state !== 'SUCCESS') await this.processes.startFailedIn(change, doc.job.id, doc.state, jobView(doc).results[0], now);
  }

  /** Queued and offered deliveries end KILLED; answers the nodes that hold (or may hold) the job. */
  async #killUntaken(change: Change, doc: JobDoc, why: string, now: number): Promise<NodeKey[]> {
    const holders: NodeKey[] = [];
    for (const d of doc.deliveries) {
      if (d.state === 'OFFERED' || d.state === 'RUNNING') holders.push({ gid: d.gid, nid: d.nid });
      if (d.state === 'QUEUED' || d.state === 'OFFERED') endDelivery(doc, d, 'KILLED', untakenReason(why, d.state), now);
    }
    await this.#refresh(change, doc, now);
    return holders;
  }
}

/** A node key back from the `<gid>_<nid>` the store wrote itself. */
function nodeOf(name: string): NodeKey {
  const [gid, nid] = name.split('_').map(Number) as [number, number];
  return { gid, nid };
}
