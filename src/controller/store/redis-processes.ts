/**
 * ProcessStore on Redis. The `*In` methods work inside a change of RedisJobStore, which calls them
 * where a job change decides a process's fate (its start stored, refused or withdrawn, its node
 * lost), so both are committed together or not at all.
 */
import type { JobState, Result } from '../../protocol/job.js';
import { EXIT_LOST, EXIT_NOT_STARTED, type Cores, type ProcessExit, type ProcessSpec } from '../../protocol/process.js';
import { Errors } from '../../shared/errors.js';
import { nodeName, type NodeKey } from './job-store.js';
import type { FinishedProcess, NewProcess, ProcessStore, ProcessView } from './process-store.js';
import { nodeLostBeforeStartReason, nodeLostReason, notStartedReason, unknownToAgentReason } from './process-verdicts.js';
import type { RedisAtomic } from './redis-atomic.js';
import type { Change, Op } from './redis-change.js';
import type { JobDoc } from './redis-job-doc.js';
import type { RedisKeys } from './redis-keys.js';

interface ProcessDoc extends NodeKey {
  id: string;
  name: string;
  spec: ProcessSpec;
  created: number;
  exit_code: number | null;
  reason: string;
  ended: number | null;
  /** Finished by the controller, without the agent's word. */
  verdict: boolean;
  /** Key of the take() call that handed it out. */
  delivered: string | null;
}

export class RedisProcesses implements ProcessStore {
  readonly #index = (before: ProcessDoc | null, after: ProcessDoc | null) => processIndexOps(this.k, before, after);

  constructor(
    private readonly atomic: RedisAtomic,
    private readonly k: RedisKeys,
  ) {}

  /** Records the process of a start job being created. Throws NAME_RUNNING. */
  async insertIn(change: Change, id: string, node: NodeKey, p: NewProcess, now: number): Promise<void> {
    const nameKey = this.k.processName(nodeName(node), p.name);
    if ((await this.atomic.client.exists(nameKey)) === 1) throw Errors.NAME_RUNNING(p.name, nodeName(node));
    change.check(['absent', nameKey]);
    await change.doc(this.k.process(id));
    const doc: ProcessDoc = { id, gid: node.gid, nid: node.nid, name: p.name, spec: p.spec, created: now, exit_code: null, reason: '', ended: null, verdict: false, delivered: null };
    change.put(this.k.process(id), doc, this.#index);
  }

  /** A job ended other than SUCCESS: if it was a start, its process never ran. */
  async startFailedIn(change: Change, id: string, state: JobState, result: Result | undefined, now: number): Promise<void> {
    const doc = await change.doc<ProcessDoc>(this.k.process(id));
    if (!doc || doc.exit_code !== null) return;
    this.#finish(change, doc, EXIT_NOT_STARTED, notStartedReason(state, result), now, true);
  }

  /** The node was lost: its unfinished processes end lost. Answers those whose start it never took. */
  async loseNodeIn(change: Change, node: NodeKey, now: number): Promise<string[]> {
    const untaken: string[] = [];
    for (const { doc, start } of await this.#unfinishedOn(change, node)) {
      if (!notTaken(start)) this.#finish(change, doc, EXIT_LOST, nodeLostReason(node), now, true);
      else {
        this.#finish(change, doc, EXIT_NOT_STARTED, nodeLostBeforeStartReason(node), now, true);
        untaken.push(doc.id);
      }
    }
    return untaken;
  }

  /** Up to `limit` processes handed out and ended before `before`. */
  async prune(before: number, limit: number): Promise<number> {
    return this.atomic.run(async (change) => {
      const ids = await this.atomic.client.zrangebyscore(this.k.delivered, '-inf', `(${before}`, 'LIMIT', 0, limit);
      const docs = await change.docs<ProcessDoc>(ids.map(this.k.process));
      for (const doc of docs) {
        if (!doc) continue;
        change.put(this.k.process(doc.id), null, this.#index);
        change.op('LREM', this.k.batch(doc.delivered!), 0, doc.id);
      }
      return docs.filter(Boolean).length;
    });
  }

  async list(limit: number): Promise<ProcessView[]> {
    return this.atomic.run(async (change) => {
      const ids = await this.atomic.client.zrevrange(this.k.processes, 0, limit - 1);
      const docs = (await change.docs<ProcessDoc>(ids.map(this.k.process))).filter((d): d is ProcessDoc => d !== null);
      const starts = await this.#startsOf(change, docs);
      return docs
        .map((d, i) => ({
          id: d.id,
          node: nodeName(d),
          name: d.name,
          state: d.exit_code !== null ? ('finished' as const) : notTaken(starts[i]) ? ('starting' as const) : ('running' as const),
          exit_code: d.exit_code,
          reason: d.reason,
          ended: d.ended,
          created: d.created,
          delivered: d.delivered !== null,
          spec: d.spec,
        }))
        .sort((a, b) => b.created - a.created || (a.id < b.id ? -1 : 1));
    });
  }

  async report(node: NodeKey, exits: ProcessExit[]): Promise<string[]> {
    return this.atomic.run(async (change) => {
      const docs = await change.docs<ProcessDoc>(exits.map((e) => this.k.process(e.id)));
      exits.forEach((e, i) => {
        const doc = docs[i];
        const ours = doc && doc.gid === node.gid && doc.nid === node.nid;
        // The agent's word replaces a verdict reached without it, until that was handed out.
        if (ours && (doc.exit_code === null || (doc.verdict && doc.delivered === null))) this.#finish(change, doc, e.exit_code, e.reason, e.ended, false);
      });
      return exits.map((e) => e.id);
    });
  }

  async take(key: string, limit: number): Promise<FinishedProcess[]> {
    return this.atomic.run(async (change) => {
      const again = await this.atomic.client.lrange(this.k.batch(key), 0, -1);
      if (again.length > 0) {
        const docs = await change.docs<ProcessDoc>(again.map(this.k.process));
        return docs.filter((d): d is ProcessDoc => d !== null).map(finished);
      }
      // Members with equal scores come in id order: (ended, id), as the SQLite store gives them.
      const ids = await this.atomic.client.zrange(this.k.undelivered, 0, limit - 1);
      const docs = (await change.docs<ProcessDoc>(ids.map(this.k.process))).filter((d): d is ProcessDoc => d !== null && d.delivered === null);
      for (const doc of docs) {
        doc.delivered = key;
        change.put(this.k.process(doc.id), doc, this.#index);
      }
      if (docs.length > 0) change.op('RPUSH', this.k.batch(key), ...docs.map((d) => d.id));
      return docs.map(finished);
    });
  }

  async unstarted(): Promise<string[]> {
    return this.atomic.run(async (change) => {
      const ids = await this.atomic.client.smembers(this.k.unfinished);
      const docs = (await change.docs<ProcessDoc>(ids.map(this.k.process))).filter((d): d is ProcessDoc => d !== null);
      const starts = await this.#startsOf(change, docs);
      return docs.filter((_, i) => notTaken(starts[i])).map((d) => d.id);
    });
  }

  async reconcile(node: NodeKey, known: readonly string[], now: number): Promise<string[]> {
    const knows = new Set(known);
    return this.atomic.run(async (change) => {
      const lost = (await this.#unfinishedOn(change, node)).filter(({ doc, start }) => !notTaken(start) && !knows.has(doc.id));
      for (const { doc } of lost) {
        this.#finish(change, doc, EXIT_LOST, unknownToAgentReason(node), now, true);
      }
      return lost.map(({ doc }) => doc.id);
    });
  }

  async putCores(node: NodeKey, cores: Cores): Promise<void> {
    await this.atomic.read((c) => c.hset(this.k.cores, nodeName(node), JSON.stringify(cores)));
  }

  async cores(nodes: readonly NodeKey[]): Promise<Map<string, Cores>> {
    const found = new Map<string, Cores>();
    if (nodes.length === 0) return found;
    const rows = await this.atomic.read((c) => c.hmget(this.k.cores, ...nodes.map(nodeName)));
    nodes.forEach((n, i) => {
      if (rows[i] !== null) found.set(nodeName(n), JSON.parse(rows[i]!) as Cores);
    });
    return found;
  }

  async #unfinishedOn(change: Change, node: NodeKey): Promise<{ doc: ProcessDoc; start: string | null }[]> {
    const ids = await this.atomic.client.smembers(this.k.unfinishedOn(nodeName(node)));
    const docs = (await change.docs<ProcessDoc>(ids.map(this.k.process))).filter((d): d is ProcessDoc => d !== null && d.exit_code === null);
    const starts = await this.#startsOf(change, docs);
    return docs.map((doc, i) => ({ doc, start: starts[i] ?? null }));
  }

  /** The state of each start job's delivery; null once the job was pruned. */
  async #startsOf(change: Change, docs: ProcessDoc[]): Promise<(string | null)[]> {
    const jobs = await change.docs<JobDoc>(docs.map((d) => this.k.job(d.id)));
    return jobs.map((j) => j?.deliveries[0]?.state ?? null);
  }

  #finish(change: Change, doc: ProcessDoc, code: number, reason: string, ended: number, verdict: boolean): void {
    Object.assign(doc, { exit_code: code, reason, ended, verdict });
    change.put(this.k.process(doc.id), doc, this.#index);
    change.events.push({ kind: 'finished' });
  }
}

/** The agent has not taken the start yet. */
const notTaken = (start: string | null | undefined) => start === 'QUEUED' || start === 'OFFERED';

function finished(d: ProcessDoc): FinishedProcess {
  return { id: d.id, node: nodeName(d), name: d.name, exit_code: d.exit_code!, reason: d.reason, ended: d.ended! };
}

function processIndexOps(k: RedisKeys, before: ProcessDoc | null, after: ProcessDoc | null): Op[] {
  const ops: Op[] = [];
  const { id, name } = (after ?? before)!;
  const node = nodeName((after ?? before)!);
  if (!before) ops.push(['ZADD', k.processes, after!.created, id]);
  if (!after) ops.push(['ZREM', k.processes, id]);
  const unfinished = (d: ProcessDoc | null) => d !== null && d.exit_code === null;
  if (unfinished(after) && !unfinished(before)) ops.push(['SET', k.processName(node, name), id], ['SADD', k.unfinished, id], ['SADD', k.unfinishedOn(node), id]);
  if (unfinished(before) && !unfinished(after)) ops.push(['DEL', k.processName(node, name)], ['SREM', k.unfinished, id], ['SREM', k.unfinishedOn(node), id]);
  const undelivered = (d: ProcessDoc | null) => d !== null && d.exit_code !== null && d.delivered === null;
  if (undelivered(after)) {
    if (!undelivered(before) || before!.ended !== after!.ended) ops.push(['ZADD', k.undelivered, after!.ended!, id]);
  } else if (undelivered(before)) ops.push(['ZREM', k.undelivered, id]);
  const delivered = (d: ProcessDoc | null) => d !== null && d.delivered !== null;
  if (delivered(after) && !delivered(before)) ops.push(['ZADD', k.delivered, after!.ended!, id]);
  if (delivered(before) && !delivered(after)) ops.push(['ZREM', k.delivered, id]);
  return ops;
}
