/**
 * A job as the Redis store keeps it: one document with its deliveries, and the index entries that
 * follow from it. Indexes are derived by comparing the document before and after a change, so
 * every transition keeps them right without each one saying which it touches.
 */
import { TERMINAL_STATES, type Job, type JobState, type Result } from '../../protocol/job.js';
import { aggregateState, type DeliveryState } from '../dispatch/job-state.js';
import { nodeName, type JobView, type NewJob, type NodeKey } from './job-store.js';
import type { Op } from './redis-change.js';
import { leaseMember, queueScore, type RedisKeys } from './redis-keys.js';
import { failureOf, verdict } from './verdict.js';

export interface DeliveryDoc extends NodeKey {
  urgent: boolean;
  state: DeliveryState;
  lease: string | null;
  expires: number | null;
  offers: number;
  result: Result | null;
}

export interface JobDoc {
  seq: number;
  job: Job;
  state: JobState;
  /** Why it went nowhere (no matching agents). */
  failure: string | null;
  created: number;
  finished: number | null;
  /** In node order. */
  deliveries: DeliveryDoc[];
}

const WAITING: ReadonlySet<DeliveryState> = new Set(['QUEUED', 'OFFERED']);

export function newJobDoc(entry: NewJob, seq: number, now: number): JobDoc {
  const failure = failureOf(entry);
  const deliveries = [...entry.targets]
    .sort((a, b) => a.gid - b.gid || a.nid - b.nid)
    .map((t): DeliveryDoc => ({
      gid: t.gid,
      nid: t.nid,
      urgent: entry.urgent ?? false,
      state: entry.offer ? 'OFFERED' : 'QUEUED',
      lease: entry.offer?.lease ?? null,
      expires: entry.offer?.expiresAt ?? null,
      offers: entry.offer ? 1 : 0,
      result: null,
    }));
  return { seq, job: entry.job, state: failure === null ? 'QUEUED' : 'ERROR', failure, created: now, finished: failure === null ? null : now, deliveries };
}

export function deliveryOf(doc: JobDoc, node: NodeKey): DeliveryDoc | undefined {
  return doc.deliveries.find((d) => d.gid === node.gid && d.nid === node.nid);
}

/** Ends a delivery with the controller's verdict (killed, lost, never acknowledged). */
export function endDelivery(doc: JobDoc, d: DeliveryDoc, state: JobState, reason: string, now: number): void {
  Object.assign(d, { state, lease: null, expires: null, result: verdict(doc.job, d, state, reason, now) });
}

/** Recomputes the job's state from its deliveries; true when the job just ended. */
export function refreshState(doc: JobDoc, now: number): boolean {
  const counts = new Map<DeliveryState, number>();
  for (const d of doc.deliveries) counts.set(d.state, (counts.get(d.state) ?? 0) + 1);
  const state = aggregateState(counts);
  const ended = TERMINAL_STATES.has(state);
  const justEnded = ended && doc.finished === null;
  doc.state = state;
  doc.finished = ended ? (doc.finished ?? now) : null;
  return justEnded;
}

export function jobView(doc: JobDoc): JobView {
  const results = doc.deliveries.flatMap((d) => (d.result ? [d.result] : []));
  if (doc.failure !== null) results.push(verdict(doc.job, null, 'ERROR', doc.failure, doc.created));
  return { job: doc.job, state: doc.state, created: doc.created, finished: doc.finished, results };
}

/** The index changes that take the job from `before` to `after` (null: absent). */
export function jobIndexOps(k: RedisKeys, before: JobDoc | null, after: JobDoc | null): Op[] {
  const ops: Op[] = [];
  const doc = (after ?? before)!;
  const { id } = doc.job;
  if (!before) ops.push(['ZADD', k.jobs, doc.seq, id]);
  if (!after) ops.push(['ZREM', k.jobs, id]);
  if (before?.state !== after?.state) {
    if (before) ops.push(['ZREM', k.jobsIn(before.state), id]);
    if (after) ops.push(['ZADD', k.jobsIn(after.state), doc.seq, id]);
  }
  if (before?.finished !== after?.finished) {
    if (after?.finished != null) ops.push(['ZADD', k.finished, after.finished, id]);
    else if (before?.finished != null) ops.push(['ZREM', k.finished, id]);
  }
  const nodes = new Map<string, [DeliveryDoc | undefined, DeliveryDoc | undefined]>();
  for (const d of before?.deliveries ?? []) nodes.set(nodeName(d), [d, undefined]);
  for (const d of after?.deliveries ?? []) nodes.set(nodeName(d), [nodes.get(nodeName(d))?.[0], d]);
  for (const [node, [was, is]] of nodes) {
    const queued = (d?: DeliveryDoc) => d?.state === 'QUEUED';
    const offered = (d?: DeliveryDoc) => d?.state === 'OFFERED';
    const running = (d?: DeliveryDoc) => d?.state === 'RUNNING';
    if (queued(was) && !queued(is)) ops.push(['ZREM', k.queue(node), id]);
    if (queued(is) && !queued(was)) ops.push(['ZADD', k.queue(node), queueScore(doc.seq, is!.urgent), id]);
    if (offered(was) && !(offered(is) && is!.expires === was!.expires)) ops.push(['ZREM', k.leases, leaseMember(node, id)]);
    if (offered(is) && !(offered(was) && was!.expires === is!.expires)) ops.push(['ZADD', k.leases, is!.expires!, leaseMember(node, id)]);
    if (running(was) && !running(is)) ops.push(['SREM', k.running(node), id]);
    if (running(is) && !running(was)) ops.push(['SADD', k.running(node), id]);
    const waiting = (d?: DeliveryDoc) => (d && WAITING.has(d.state) ? 1 : 0);
    const delta = waiting(is) - waiting(was);
    if (delta !== 0) ops.push(['HINCRBY', k.queueLengths, node, delta]);
  }
  return ops;
}
