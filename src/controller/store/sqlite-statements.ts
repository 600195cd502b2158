/** The prepared statements of SqliteJobStore, the rows they return, and a job's view from them. */
import type Database from 'better-sqlite3';
import type { Job, JobState, Result } from '../../protocol/job.js';
import type { DeliveryState } from '../dispatch/job-state.js';
import type { JobView, NodeKey } from './job-store.js';
import { verdict } from './verdict.js';

export interface JobRow {
  seq: number;
  id: string;
  state: JobState;
  failure: string | null;
  created: number;
  finished: number | null;
}

export interface DeliveryRow extends NodeKey {
  seq: number;
  state: DeliveryState;
  offers: number;
}

export type JobStatements = ReturnType<typeof jobStatements>;

export function jobStatements(db: Database.Database) {
  const p = <P extends unknown[] = unknown[], R = unknown>(sql: string) => db.prepare<P, R>(sql);
  return {
    insertJob: p('INSERT INTO jobs (id, state, failure, created, finished) VALUES (?, ?, ?, ?, ?)'),
    insertSpec: p('INSERT INTO job_specs (seq, spec) VALUES (?, ?)'),
    specOf: p<[number], { spec: string }>('SELECT spec FROM job_specs WHERE seq = ?'),
    insertDelivery: p("INSERT INTO deliveries (seq, gid, nid, urgent, state) VALUES (?, ?, ?, ?, 'QUEUED')"),
    insertOffered: p("INSERT INTO deliveries (seq, gid, nid, urgent, state, lease, lease_expires, offers) VALUES (?, ?, ?, ?, 'OFFERED', ?, ?, 1)"),
    withdraw: p("UPDATE deliveries SET state = 'QUEUED', lease = NULL, lease_expires = NULL, offers = offers - 1 WHERE seq = ? AND gid = ? AND nid = ? AND state = 'OFFERED' AND lease = ?"),
    jobById: p<[string], JobRow>('SELECT * FROM jobs WHERE id = ?'),
    jobBySeq: p<[number], JobRow>('SELECT * FROM jobs WHERE seq = ?'),
    list: p<[number], JobRow & { spec: string }>('SELECT j.*, s.spec FROM jobs j JOIN job_specs s ON s.seq = j.seq ORDER BY j.seq DESC LIMIT ?'),
    listByState: p<[string, number], JobRow & { spec: string }>('SELECT j.*, s.spec FROM jobs j JOIN job_specs s ON s.seq = j.seq WHERE j.state = ? ORDER BY j.seq DESC LIMIT ?'),
    // Scans the jobs_by_state index only, never the rows.
    jobCounts: p<[], { state: JobState; n: number }>('SELECT state, count(*) AS n FROM jobs GROUP BY state'),
    results: p<[number], { result: string }>('SELECT result FROM deliveries WHERE seq = ? AND result IS NOT NULL ORDER BY gid, nid'),
    delivery: p<[number, number, number], DeliveryRow>('SELECT seq, gid, nid, state, offers FROM deliveries WHERE seq = ? AND gid = ? AND nid = ?'),
    deliveriesOf: p<[number], DeliveryRow>('SELECT seq, gid, nid, state, offers FROM deliveries WHERE seq = ?'),
    counts: p<[number], { state: DeliveryState; n: number }>('SELECT state, count(*) AS n FROM deliveries WHERE seq = ? GROUP BY state'),
    setJobState: p('UPDATE jobs SET state = ?, finished = ? WHERE seq = ?'),
    nextQueued: p<[number, number, number], { seq: number; spec: string }>(
      "SELECT d.seq, s.spec FROM deliveries d JOIN job_specs s ON s.seq = d.seq WHERE d.gid = ? AND d.nid = ? AND d.state = 'QUEUED' ORDER BY d.urgent DESC, d.seq LIMIT ?",
    ),
    nextUrgent: p<[number, number, number], { seq: number; spec: string }>(
      "SELECT d.seq, s.spec FROM deliveries d JOIN job_specs s ON s.seq = d.seq WHERE d.gid = ? AND d.nid = ? AND d.state = 'QUEUED' AND d.urgent = 1 ORDER BY d.seq LIMIT ?",
    ),
    offer: p("UPDATE deliveries SET state = 'OFFERED', lease = ?, lease_expires = ?, offers = offers + 1 WHERE seq = ? AND gid = ? AND nid = ? AND state = 'QUEUED'"),
    // The lease stays on the running delivery, so the same acknowledgement sent again (its first
    // reply lost) is recognised and answered alike instead of leaving the agent in doubt.
    ack: p("UPDATE deliveries SET state = 'RUNNING', lease_expires = NULL WHERE seq = ? AND gid = ? AND nid = ? AND state = 'OFFERED' AND lease = ? AND lease_expires >= ?"),
    acked: p("SELECT 1 AS yes FROM deliveries WHERE seq = ? AND gid = ? AND nid = ? AND state = 'RUNNING' AND lease = ?"),
    expired: p<[number, number], DeliveryRow & { id: string }>(
      "SELECT d.seq, d.gid, d.nid, d.state, d.offers, j.id FROM deliveries d JOIN jobs j ON j.seq = d.seq WHERE d.state = 'OFFERED' AND d.lease_expires < ? ORDER BY d.seq LIMIT ?",
    ),
    requeue: p("UPDATE deliveries SET state = 'QUEUED', lease = NULL, lease_expires = NULL WHERE seq = ? AND gid = ? AND nid = ? AND state = 'OFFERED'"),
    end: p('UPDATE deliveries SET state = ?, lease = NULL, lease_expires = NULL, result = ? WHERE seq = ? AND gid = ? AND nid = ?'),
    touch: p('INSERT INTO sessions (gid, nid, roles, last_seen) VALUES (?, ?, ?, ?) ON CONFLICT (gid, nid) DO UPDATE SET roles = excluded.roles, last_seen = excluded.last_seen'),
    keepAlive: p('UPDATE sessions SET last_seen = max(last_seen, ?) WHERE gid = ? AND nid = ?'),
    sessions: p<[number], NodeKey & { roles: string; last_seen: number }>('SELECT * FROM sessions WHERE last_seen >= ? ORDER BY gid, nid'),
    stale: p<[number, number], NodeKey>('SELECT gid, nid FROM sessions WHERE last_seen < ? LIMIT ?'),
    dropSession: p('DELETE FROM sessions WHERE gid = ? AND nid = ?'),
    runningOn: p<[number, number], DeliveryRow>("SELECT seq, gid, nid, state, offers FROM deliveries WHERE gid = ? AND nid = ? AND state = 'RUNNING'"),
    queueLengths: p<[], NodeKey & { n: number }>('SELECT gid, nid, n FROM queue_lengths WHERE n > 0'),
    finishedBefore: p<[number, number], { seq: number }>('SELECT seq FROM jobs WHERE finished IS NOT NULL AND finished < ? LIMIT ?'),
    dropDeliveries: p('DELETE FROM deliveries WHERE seq = ?'),
    dropJob: p('DELETE FROM jobs WHERE seq = ?'),
    dropSpec: p('DELETE FROM job_specs WHERE seq = ?'),
  };
}

/** The job with every delivery's result; a job that went nowhere carries the reason as its one result. */
export function jobView(q: JobStatements, row: JobRow): JobView {
  const job = specOf(q, row.seq);
  const results = q.results.all(row.seq).map((r) => JSON.parse(r.result) as Result);
  if (row.failure !== null) results.push(verdict(job, null, 'ERROR', row.failure, row.created));
  return { job, state: row.state, created: row.created, finished: row.finished, results };
}

export function specOf(q: JobStatements, seq: number): Job {
  return JSON.parse(q.specOf.get(seq)!.spec) as Job;
}
