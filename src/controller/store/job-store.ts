/**
 * What the controller keeps: jobs and their per-node deliveries, sessions (liveness), logs, stats
 * and jumpscript texts. Stated as high-level operations with no storage types, so SQLite (one
 * controller) and a shared store for several controllers implement the same contract, and one
 * conformance suite runs against each (test/unit/controller/store-conformance.ts).
 *
 * A job is delivered to one node, or with `fanout` to several: one delivery per node. A delivery
 * moves QUEUED → OFFERED (leased to a poll) → RUNNING (the agent acknowledged the lease) → a
 * terminal state (the agent's result, or the controller's verdict: killed, lost, never
 * acknowledged). A node's queue is its QUEUED deliveries, oldest submission first (urgent ones,
 * the controller's own `kill` jobs, ahead of all); an offer whose lease expires goes back to its
 * place, so it comes again ahead of newer jobs.
 *
 * Every mutation is atomic. Times are epoch milliseconds passed in by the caller.
 */
import type { Ack, Job, JobState, LogMessage, Offer, Result, StatsBatch } from '../../protocol/job.js';
import type { NewProcess, ProcessStore } from './process-store.js';

export interface NodeKey {
  gid: number;
  nid: number;
}

/** `1_10`: how JumpScale names a node in listSessions, and the CN its certificate must carry. */
export const nodeName = (n: NodeKey): string => `${n.gid}_${n.nid}`;

export interface Session extends NodeKey {
  roles: string[];
  lastSeen: number;
}

export interface NewJob {
  job: Job;
  /** The nodes it goes to; none means it fails at once with `failure` as its result data. */
  targets: NodeKey[];
  failure?: string;
  /** Offered before every non-urgent job of the node. */
  urgent?: boolean;
  /** The job starts this named process on its one target: both are stored, or neither. */
  process?: NewProcess;
  /**
   * Handed straight to a poll of its one target that is waiting right now: the delivery starts
   * offered under this lease (its first offer) instead of queued, and wakes no poll.
   */
  offer?: { lease: string; expiresAt: number };
}

export interface JobView {
  job: Job;
  /** Aggregated over the deliveries: see dispatch/job-state.ts. */
  state: JobState;
  created: number;
  /** When the last delivery ended; retention counts from here. */
  finished: number | null;
  /** One per delivery that ended (or reported progress), in node order. */
  results: Result[];
}

export type JobSummary = Omit<JobView, 'results'>;

/** A delivery of a job to one node, as lease handling sees it. */
export interface DeliveryRef extends NodeKey {
  id: string;
}

export interface LeaseSweep {
  /** Back in their node's queue, at their old place. */
  reoffered: DeliveryRef[];
  /** Ended ERROR: offered as often as allowed and never acknowledged. */
  failed: DeliveryRef[];
}

export interface KillOutcome {
  view: JobView;
  /** Nodes that had acknowledged (or may hold) the job: they must be told to kill it. */
  holders: NodeKey[];
}

export interface NodeLog extends LogMessage, NodeKey {}

export interface StatsView {
  latest: StatsBatch | null;
  /** The node's newest batches, oldest first; `latest` is the last of them. */
  history: StatsBatch[];
}

/**
 * Something changed that a waiter may care about. Emitted after the change is stored. `resync`:
 * changes may have gone unheard (a shared store's event feed was cut and is back), so every waiter
 * looks again.
 */
export type StoreEvent = { kind: 'work'; node: NodeKey } | { kind: 'done'; id: string } | { kind: 'finished' } | { kind: 'resync' };

export interface JobStore {
  /** Named processes, on the same storage: a start is stored with its job atomically. */
  readonly processes: ProcessStore;
  /**
   * Stores a new job with its deliveries. Throws Errors.DUPLICATE_ID if the id exists, and
   * Errors.NAME_RUNNING if `process` names one still running on the target.
   */
  create(entry: NewJob, now: number): Promise<JobView>;
  get(id: string): Promise<JobView | null>;
  /** Newest first. */
  list(filter: { state?: JobState; limit: number }): Promise<JobSummary[]>;
  /** How many jobs the store keeps in each state that has any; finished ones count until pruned. */
  jobCounts(): Promise<Map<JobState, number>>;

  /**
   * Leases up to `max` of the node's next queued deliveries, in queue order, to one poll until
   * `expiresAt`, each under its own lease from `newLease`; empty if none is queued. With
   * `urgentOnly`, only urgent ones: the node has no free job slot, and those take none.
   */
  offerNext(node: NodeKey, newLease: () => string, expiresAt: number, max: number, urgentOnly?: boolean): Promise<Offer[]>;
  /**
   * Takes back an offer that never reached its poll (the poll ended before the hand-off): the
   * delivery is queued again as if never offered, and the node's polls are woken. False if the
   * lease is no longer the delivery's.
   */
  withdrawOffer(id: string, node: NodeKey, lease: string): Promise<boolean>;
  /**
   * OFFERED → RUNNING for each item whose lease is the delivery's current, unexpired one, all in
   * one transaction; answers per item, in order. An item already acknowledged with the same
   * lease (its reply was lost) is answered true again.
   */
  ack(node: NodeKey, acks: readonly Ack[], now: number): Promise<boolean[]>;
  /**
   * Expired leases (at most `limit`, oldest submission first): offered fewer than `maxOffers`
   * times → back to the queue; else ERROR with a reason.
   */
  expireLeases(now: number, maxOffers: number, limit: number): Promise<LeaseSweep>;
  /**
   * Records an agent's results, all in one transaction; answers per item, in order. A result is
   * taken only for a delivery that was offered to that node at least once. A terminal state ends
   * the delivery (the agent's word replaces a verdict reached without it); RUNNING records
   * progress. False for a job the node was never given.
   */
  complete(node: NodeKey, results: readonly Result[], now: number): Promise<boolean[]>;
  /** Queued deliveries → KILLED at once; offered and running ones are left to the agent. */
  kill(id: string, now: number): Promise<KillOutcome | null>;

  /** Records a poll: the node is alive with these roles. */
  touch(node: NodeKey, roles: string[], now: number): Promise<void>;
  /** Marks nodes alive (their polls are still pending) without changing their roles. */
  keepAlive(nodes: NodeKey[], now: number): Promise<void>;
  /** Sessions seen at or after `since`, in node order. */
  sessions(since: number): Promise<Session[]>;
  /** Queued and offered deliveries per node name, for nodes that have any. */
  queueLengths(): Promise<Map<string, number>>;
  /**
   * Drops up to `limit` sessions not seen since `before`; their RUNNING deliveries end ERROR
   * ("agent <gid>_<nid> lost"). Queued ones stay queued for the node's return, except the starts
   * of named processes: those end lost with the node, and their starts are withdrawn (KILLED).
   */
  expireSessions(before: number, now: number, limit: number): Promise<NodeKey[]>;

  appendLogs(node: NodeKey, messages: LogMessage[], now: number): Promise<void>;
  logs(query: { id?: string; node?: NodeKey; limit: number }): Promise<NodeLog[]>;
  /** Stores a node's batch, keeping its newest `keep` batches. */
  putStats(node: NodeKey, batch: StatsBatch, now: number, keep: number): Promise<void>;
  stats(node: NodeKey): Promise<StatsView>;
  putScript(hash: string, text: string, now: number): Promise<void>;
  script(hash: string): Promise<string | null>;

  /** Deletes up to `limit` finished jobs, logs, unused scripts and handed-out processes older than `before`. */
  prune(before: number, limit: number): Promise<number>;

  /** Resolves once the store answers; a shared store that does not throws Errors.STORE_UNAVAILABLE. */
  ping(): Promise<void>;
  /** Listens to changes; returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void;
  close(): Promise<void>;
}
