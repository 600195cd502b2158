/**
 * ProcessStore on the controller's SQLite file. The `*InTx` methods run inside a transaction of
 * SqliteJobStore, which calls them where a job change decides a process's fate: the start job
 * stored, refused or withdrawn, the node lost.
 */
import type Database from 'better-sqlite3';
import type { JobState, Result } from '../../protocol/job.js';
import { EXIT_LOST, EXIT_NOT_STARTED, type Cores, type ProcessExit, type ProcessSpec } from '../../protocol/process.js';
import { Errors } from '../../shared/errors.js';
import { nodeName, type NodeKey, type StoreEvent } from './job-store.js';
import type { FinishedProcess, NewProcess, ProcessStore, ProcessView } from './process-store.js';
import { nodeLostBeforeStartReason, nodeLostReason, notStartedReason, unknownToAgentReason } from './process-verdicts.js';
import type { SqliteTx } from './sqlite-tx.js';

interface ProcessRow extends NodeKey {
  id: string;
  name: string;
  spec: string;
  created: number;
  exit_code: number | null;
  reason: string;
  ended: number | null;
  verdict: number;
  delivered: string | null;
  /** State of the start job's delivery; null once the job was pruned. */
  start: string | null;
}

const WITH_START = 'SELECT p.*, d.state AS start FROM processes p LEFT JOIN jobs j ON j.id = p.id LEFT JOIN deliveries d ON d.seq = j.seq';
/** The agent has not taken the start yet. */
const NOT_TAKEN = "('QUEUED', 'OFFERED')";

export class SqliteProcesses implements ProcessStore {
  readonly #q;

  constructor(
    db: Database.Database,
    private readonly tx: SqliteTx,
  ) {
    const p = <P extends unknown[] = unknown[], R = unknown>(sql: string) => db.prepare<P, R>(sql);
    this.#q = {
      insert: p('INSERT INTO processes (id, gid, nid, name, spec, created) VALUES (?, ?, ?, ?, ?, ?)'),
      byId: p<[string], ProcessRow>(`${WITH_START} WHERE p.id = ?`),
      list: p<[number], ProcessRow>(`${WITH_START} ORDER BY p.created DESC, p.id LIMIT ?`),
      unfinishedOn: p<[number, number], ProcessRow>(`${WITH_START} WHERE p.gid = ? AND p.nid = ? AND p.exit_code IS NULL`),
      unstarted: p<[], { id: string }>(`${WITH_START} WHERE p.exit_code IS NULL AND d.state IN ${NOT_TAKEN}`),
      finish: p('UPDATE processes SET exit_code = ?, reason = ?, ended = ?, verdict = ? WHERE id = ?'),
      batch: p<[string], ProcessRow>('SELECT *, NULL AS start FROM processes WHERE delivered = ? ORDER BY ended, id'),
      undelivered: p<[number], ProcessRow>('SELECT *, NULL AS start FROM processes WHERE exit_code IS NOT NULL AND delivered IS NULL ORDER BY ended, id LIMIT ?'),
      deliver: p('UPDATE processes SET delivered = ? WHERE id = ?'),
      putCores: p('INSERT INTO node_cores (gid, nid, cores, reported) VALUES (?, ?, ?, ?) ON CONFLICT (gid, nid) DO UPDATE SET cores = excluded.cores, reported = excluded.reported'),
      cores: p<[number, number], { cores: string }>('SELECT cores FROM node_cores WHERE gid = ? AND nid = ?'),
      prune: p('DELETE FROM processes WHERE id IN (SELECT id FROM processes WHERE delivered IS NOT NULL AND ended < ? LIMIT ?)'),
    };
  }

  /** Records the process of a start job being created. Throws NAME_RUNNING. */
  insertInTx(id: string, node: NodeKey, p: NewProcess, now: number): void {
    try {
      this.#q.insert.run(id, node.gid, node.nid, p.name, JSON.stringify(p.spec), now);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw Errors.NAME_RUNNING(p.name, nodeName(node));
      throw err;
    }
  }

  /** A job ended other than SUCCESS: if it was a start, its process never ran. */
  startFailedInTx(id: string, state: JobState, resultOf: () => Result | undefined, now: number, events: StoreEvent[]): void {
    const row = this.#q.byId.get(id);
    if (!row || row.exit_code !== null) return;
    this.#finish(row.id, EXIT_NOT_STARTED, notStartedReason(state, resultOf()), now, true, events);
  }

  /** The node was lost: its unfinished processes end lost. Answers those whose start it never took. */
  loseNodeInTx(node: NodeKey, now: number, events: StoreEvent[]): string[] {
    const untaken: string[] = [];
    for (const row of this.#q.unfinishedOn.all(node.gid, node.nid)) {
      const taken = !(row.start === 'QUEUED' || row.start === 'OFFERED');
      if (taken) this.#finish(row.id, EXIT_LOST, nodeLostReason(node), now, true, events);
      else {
        this.#finish(row.id, EXIT_NOT_STARTED, nodeLostBeforeStartReason(node), now, true, events);
        untaken.push(row.id);
      }
    }
    return untaken;
  }

  pruneInTx(before: number, limit: number): number {
    return this.#q.prune.run(before, limit).changes;
  }

  async list(limit: number): Promise<ProcessView[]> {
    return this.#q.list.all(limit).map((r) => ({
      id: r.id,
      node: nodeName(r),
      name: r.name,
      state: r.exit_code !== null ? 'finished' : r.start === 'QUEUED' || r.start === 'OFFERED' ? 'starting' : 'running',
      exit_code: r.exit_code,
      reason: r.reason,
      ended: r.ended,
      created: r.created,
      delivered: r.delivered !== null,
      spec: JSON.parse(r.spec) as ProcessSpec,
    }));
  }

  async report(node: NodeKey, exits: ProcessExit[]): Promise<string[]> {
    return this.tx.run((events) =>
      exits.map((e) => {
        const row = this.#q.byId.get(e.id);
        const ours = row && row.gid === node.gid && row.nid === node.nid;
        // The agent's word replaces a verdict reached without it, until that was handed out.
        if (ours && (row.exit_code === null || (row.verdict === 1 && row.delivered === null))) this.#finish(e.id, e.exit_code, e.reason, e.ended, false, events);
        return e.id;
      }),
      { durable: true },
    );
  }

  async take(key: string, limit: number): Promise<FinishedProcess[]> {
    return this.tx.run(() => {
      const again = this.#q.batch.all(key);
      if (again.length > 0) return again.map(finished);
      const rows = this.#q.undelivered.all(limit);
      for (const r of rows) this.#q.deliver.run(key, r.id);
      return rows.map(finished);
    }, { durable: true });
  }

  async unstarted(): Promise<string[]> {
    return this.#q.unstarted.all().map((r) => r.id);
  }

  async reconcile(node: NodeKey, known: readonly string[], now: number): Promise<string[]> {
    const knows = new Set(known);
    return this.tx.run((events) => {
      const lost = this.#q.unfinishedOn.all(node.gid, node.nid).filter((r) => r.start !== 'QUEUED' && r.start !== 'OFFERED' && !knows.has(r.id));
      for (const r of lost) this.#finish(r.id, EXIT_LOST, unknownToAgentReason(node), now, true, events);
      return lost.map((r) => r.id);
    });
  }

  async putCores(node: NodeKey, cores: Cores, now: number): Promise<void> {
    this.#q.putCores.run(node.gid, node.nid, JSON.stringify(cores), now);
  }

  async cores(nodes: readonly NodeKey[]): Promise<Map<string, Cores>> {
    const found = new Map<string, Cores>();
    for (const n of nodes) {
      const row = this.#q.cores.get(n.gid, n.nid);
      if (row) found.set(nodeName(n), JSON.parse(row.cores) as Cores);
    }
    return found;
  }

  #finish(id: string, code: number, reason: string, ended: number, verdict: boolean, events: StoreEvent[]): void {
    this.#q.finish.run(code, reason, ended, verdict ? 1 : 0, id);
    events.push({ kind: 'finished' });
  }
}

function finished(r: ProcessRow): FinishedProcess {
  return { id: r.id, node: nodeName(r), name: r.name, exit_code: r.exit_code!, reason: r.reason, ended: r.ended! };
}
