/**
 * JobStore on one SQLite file (better-sqlite3). Every operation is one transaction, so a lease is
 * granted, acknowledged or taken back atomically (`UPDATE ... WHERE ... AND lease = ?`), and a
 * controller killed at any point restarts with its queues and sessions as they were.
 */
import type Database from 'better-sqlite3';
import { TERMINAL_STATES, type Ack, type Job, type JobState, type Offer, type Result } from '../../protocol/job.js';
import { Errors, isCoxError } from '../../shared/errors.js';
import { aggregateState } from '../dispatch/job-state.js';
import { leaseVerdicts, lostReason } from '../dispatch/leases.js';
import type { DeliveryRef, JobStore, JobSummary, JobView, KillOutcome, LeaseSweep, NewJob, NodeKey, Session, StoreEvent } from './job-store.js';
import { SqliteProcesses } from './sqlite-processes.js';
import { openDatabase } from './sqlite-schema.js';
import { jobStatements, jobView, specOf, type JobRow } from './sqlite-statements.js';
import { SqliteTelemetry } from './sqlite-telemetry.js';
import { GroupCommit, type Outcome } from './group-commit.js';
import { SqliteTx } from './sqlite-tx.js';
import { failureOf, KILLED, untakenReason, verdict, WITHDRAWN_WITH_NODE } from './verdict.js';

/**
 * How one write in a group commit fails. `batch`: whatever it throws rolls back the whole batch
 * (every item fails; callers retry). `refusal`: a CoxError it throws fails it alone — it throws
 * those only before writing anything; anything else rolls back the batch. `savepoint`: it runs
 * in a savepoint, and whatever it throws fails it alone.
 */
type Isolation = 'batch' | 'refusal' | 'savepoint';

interface Write {
  work: (events: StoreEvent[]) => unknown;
  isolation: Isolation;
}

export class SqliteJobStore extends SqliteTelemetry implements JobStore {
  readonly processes: SqliteProcesses;
  readonly #q;
  readonly #tx: SqliteTx;
  /** Runs its function in a SAVEPOINT when called inside a transaction, rolled back if it throws. */
  readonly #savepoint: (work: () => void) => void;
  /**
   * The writes of the job path (submit, offer, ack, result) requested in one turn of the event
   * loop, committed together (group-commit.ts): a commit costs more than the rows of one job, and
   * under load one turn carries the writes of hundreds of jobs.
   */
  readonly #writes = new GroupCommit<Write, unknown>((writes) => this.#commitAll(writes));

  /** `path` is the database file, or `:memory:`. */
  static open(path: string): SqliteJobStore {
    return new SqliteJobStore(openDatabase(path));
  }

  private constructor(db: Database.Database) {
    super(db);
    this.#q = jobStatements(db);
    this.#tx = new SqliteTx(db);
    this.processes = new SqliteProcesses(db, this.#tx);
    this.#savepoint = db.transaction((work: () => void) => work());
  }

  /** Runs `work` in the next group commit; its result, or what it threw (see Isolation). */
  #write<T>(work: (events: StoreEvent[]) => T, isolation: Isolation = 'batch'): Promise<T> {
    return this.#writes.add({ work, isolation }) as Promise<T>;
  }

  #commitAll(writes: Write[]): Outcome<unknown>[] {
    return this.#tx.run((events) =>
      writes.map(({ work, isolation }) => {
        if (isolation === 'batch') return { value: work(events) };
        const mine: StoreEvent[] = [];
        let value: unknown;
        try {
          if (isolation === 'savepoint') this.#savepoint(() => (value = work(mine)));
          else value = work(mine);
        } catch (error) {
          if (isolation === 'refusal' && !isCoxError(error)) throw error;
          return { error };
        }
        events.push(...mine);
        return { value };
      }),
    );
  }

  create(entry: NewJob, now: number): Promise<JobView> {
    // Serialized before it joins a batch: whatever a job holds, it cannot fail the others' writes.
    let spec: string;
    try {
      spec = JSON.stringify(entry.job);
    } catch (err) {
      return Promise.reject(err);
    }
    // A duplicate id is refused by the first insert, before anything is written; a process's
    // name is checked after the job's row, so that one needs a savepoint to fail alone.
    return this.#write((events) => {
      this.#insert(entry, spec, now, events);
      return newJobView(entry, now);
    }, entry.process ? 'savepoint' : 'refusal');
  }

  #insert(entry: NewJob, spec: string, now: number, events: StoreEvent[]): void {
    const { job, targets } = entry;
    const failure = failureOf(entry);
    let info;
    try {
      info = this.#q.insertJob.run(job.id, failure === null ? 'QUEUED' : 'ERROR', failure, now, failure === null ? null : now);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw Errors.DUPLICATE_ID(job.id);
      throw err;
    }
    const seq = Number(info.lastInsertRowid);
    this.#q.insertSpec.run(seq, spec);
    if (entry.process) this.processes.insertInTx(job.id, targets[0]!, entry.process, now);
    for (const t of targets) {
      if (entry.offer) {
        this.#q.insertOffered.run(seq, t.gid, t.nid, entry.urgent ? 1 : 0, entry.offer.lease, entry.offer.expiresAt);
        continue;
      }
      this.#q.insertDelivery.run(seq, t.gid, t.nid, entry.urgent ? 1 : 0);
      events.push({ kind: 'work', node: { gid: t.gid, nid: t.nid } });
    }
    if (failure !== null) events.push({ kind: 'done', id: job.id });
  }

  async get(id: string): Promise<JobView | null> {
    const row = this.#q.jobById.get(id);
    return row ? jobView(this.#q, row) : null;
  }

  async list(filter: { state?: JobState; limit: number }): Promise<JobSummary[]> {
    const rows = filter.state ? this.#q.listByState.all(filter.state, filter.limit) : this.#q.list.all(filter.limit);
    return rows.map((r) => ({ job: JSON.parse(r.spec) as Job, state: r.state, created: r.created, finished: r.finished }));
  }

  async jobCounts(): Promise<Map<JobState, number>> {
    return new Map(this.#q.jobCounts.all().map((r) => [r.state, r.n]));
  }

  offerNext(node: NodeKey, newLease: () => string, expiresAt: number, max: number, urgentOnly = false): Promise<Offer[]> {
    const queued = urgentOnly ? this.#q.nextUrgent : this.#q.nextQueued;
    return this.#write(() =>
      queued.all(node.gid, node.nid, max).map((next) => {
        const lease = newLease();
        this.#q.offer.run(lease, expiresAt, next.seq, node.gid, node.nid);
        return { ...(JSON.parse(next.spec) as Job), gid: node.gid, nid: node.nid, lease };
      }),
    );
  }

  withdrawOffer(id: string, node: NodeKey, lease: string): Promise<boolean> {
    return this.#write((events) => {
      const job = this.#q.jobById.get(id);
      if (!job || this.#q.withdraw.run(job.seq, node.gid, node.nid, lease).changes === 0) return false;
      events.push({ kind: 'work', node: { gid: node.gid, nid: node.nid } });
      return true;
    });
  }

  ack(node: NodeKey, acks: readonly Ack[], now: number): Promise<boolean[]> {
    return this.#write(() =>
      acks.map(({ id, lease }) => {
        const job = this.#q.jobById.get(id);
        if (!job) return false;
        if (this.#q.ack.run(job.seq, node.gid, node.nid, lease, now).changes === 1) {
          // A job with a delivery running is RUNNING, whatever its others do: no need to count them.
          if (job.state !== 'RUNNING') this.#q.setJobState.run('RUNNING', null, job.seq);
          return true;
        }
        return this.#q.acked.get(job.seq, node.gid, node.nid, lease) !== undefined;
      }),
    );
  }

  async expireLeases(now: number, maxOffers: number, limit: number): Promise<LeaseSweep> {
    return this.#tx.run((events) => {
      const { reoffer, fail } = leaseVerdicts(this.#q.expired.all(now, limit), maxOffers);
      for (const l of reoffer) {
        this.#q.requeue.run(l.seq, l.gid, l.nid);
        events.push({ kind: 'work', node: { gid: l.gid, nid: l.nid } });
      }
      for (const { lease, reason } of fail) this.#endAndRefresh(lease, 'ERROR', reason, now, events);
      const ref = (l: DeliveryRef) => ({ id: l.id, gid: l.gid, nid: l.nid });
      return { reoffered: reoffer.map(ref), failed: fail.map((f) => ref(f.lease)) };
    });
  }

  complete(node: NodeKey, results: readonly Result[], now: number): Promise<boolean[]> {
    return this.#write((events) =>
      results.map((result) => {
        const job = this.#q.jobById.get(result.id);
        const d = job && this.#q.delivery.get(job.seq, node.gid, node.nid);
        if (!job || !d || d.offers === 0) return false;
        const terminal = TERMINAL_STATES.has(result.state);
        // A progress report after the end changes nothing; one before it means the agent holds the job.
        if (!terminal && TERMINAL_STATES.has(d.state as JobState)) return true;
        this.#q.end.run(terminal ? result.state : 'RUNNING', JSON.stringify(result), job.seq, node.gid, node.nid);
        this.#refresh(job, now, events);
        return true;
      }),
    );
  }

  async kill(id: string, now: number): Promise<KillOutcome | null> {
    const holders = this.#tx.run((events) => {
      const job = this.#q.jobById.get(id);
      return job ? this.#killUntaken(job, KILLED, now, events) : null;
    });
    return holders === null ? null : { view: (await this.get(id))!, holders };
  }

  async touch(node: NodeKey, roles: string[], now: number): Promise<void> {
    this.#q.touch.run(node.gid, node.nid, JSON.stringify(roles), now);
  }

  async keepAlive(nodes: NodeKey[], now: number): Promise<void> {
    this.#tx.run(() => {
      for (const n of nodes) this.#q.keepAlive.run(now, n.gid, n.nid);
    });
  }

  async sessions(since: number): Promise<Session[]> {
    return this.#q.sessions.all(since).map((r) => ({ gid: r.gid, nid: r.nid, roles: JSON.parse(r.roles) as string[], lastSeen: r.last_seen }));
  }

  async queueLengths(): Promise<Map<string, number>> {
    return new Map(this.#q.queueLengths.all().map((r) => [`${r.gid}_${r.nid}`, r.n]));
  }

  async expireSessions(before: number, now: number, limit: number): Promise<NodeKey[]> {
    return this.#tx.run((events) => {
      const stale = this.#q.stale.all(before, limit);
      for (const node of stale) {
        this.#q.dropSession.run(node.gid, node.nid);
        // A process reported lost must not start when its node comes back.
        for (const id of this.processes.loseNodeInTx(node, now, events)) this.#killUntaken(this.#q.jobById.get(id)!, WITHDRAWN_WITH_NODE, now, events);
        for (const d of this.#q.runningOn.all(node.gid, node.nid)) this.#endAndRefresh(d, 'ERROR', lostReason(node), now, events);
      }
      return stale.map((n) => ({ gid: n.gid, nid: n.nid }));
    });
  }

  async prune(before: number, limit: number): Promise<number> {
    return this.#tx.run(() => {
      const jobs = this.#q.finishedBefore.all(before, limit);
      for (const { seq } of jobs) {
        this.#q.dropDeliveries.run(seq);
        this.#q.dropSpec.run(seq);
        this.#q.dropJob.run(seq);
      }
      return jobs.length + this.pruneTelemetry(before, limit) + this.processes.pruneInTx(before, limit);
    });
  }

  /** The file is opened at start and served in this process: it answers while the process does. */
  async ping(): Promise<void> {}

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.#tx.subscribe(listener);
  }

  override async close(): Promise<void> {
    if (this.db.open) this.#writes.flush();
    await super.close();
  }

  /** Queued and offered deliveries end KILLED; answers the nodes that hold (or may hold) the job. */
  #killUntaken(job: JobRow, why: string, now: number, events: StoreEvent[]): NodeKey[] {
    const spec = specOf(this.#q, job.seq);
    const holders: NodeKey[] = [];
    for (const d of this.#q.deliveriesOf.all(job.seq)) {
      if (d.state === 'QUEUED' || d.state === 'OFFERED') this.#end(spec, d, 'KILLED', untakenReason(why, d.state), now);
      if (d.state === 'OFFERED' || d.state === 'RUNNING') holders.push({ gid: d.gid, nid: d.nid });
    }
    this.#refresh(job, now, events);
    return holders;
  }

  #endAndRefresh(d: NodeKey & { seq: number }, state: JobState, reason: string, now: number, events: StoreEvent[]): void {
    const job = this.#q.jobBySeq.get(d.seq)!;
    this.#end(specOf(this.#q, job.seq), d, state, reason, now);
    this.#refresh(job, now, events);
  }

  #end(job: Job, d: NodeKey & { seq: number }, state: JobState, reason: string, now: number): void {
    this.#q.end.run(state, JSON.stringify(verdict(job, d, state, reason, now)), d.seq, d.gid, d.nid);
  }

  /**
   * Recomputes the job's state from its deliveries; a job that just ended emits `done`. `job` is
   * its row as read in this transaction, before the change to its deliveries.
   */
  #refresh(job: JobRow, now: number, events: StoreEvent[]): void {
    const state = aggregateState(new Map(this.#q.counts.all(job.seq).map((c) => [c.state, c.n])));
    const ended = TERMINAL_STATES.has(state);
    if (state === job.state && ended === (job.finished !== null)) return;
    this.#q.setJobState.run(state, ended ? (job.finished ?? now) : null, job.seq);
    if (!ended || job.finished !== null) return;
    events.push({ kind: 'done', id: job.id });
    if (state !== 'SUCCESS') this.processes.startFailedInTx(job.id, state, () => jobView(this.#q, job).results[0], now, events);
  }
}

/** A new job has no results yet: its view is known without reading it back. */
function newJobView(entry: NewJob, now: number): JobView {
  const { job } = entry;
  const failure = failureOf(entry);
  if (failure === null) return { job, state: 'QUEUED', created: now, finished: null, results: [] };
  return { job, state: 'ERROR', created: now, finished: now, results: [verdict(job, null, 'ERROR', failure, now)] };
}
