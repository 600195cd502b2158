/**
 * The controller's core, without HTTP: agents poll, acknowledge and report; clients submit, wait,
 * kill. Everything that must survive a restart lives in the store; this object holds only the
 * pending waits (polls, clients waiting for a job) and which nodes are idle right now.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { job as jobSchema, TERMINAL_STATES, type Ack, type AgentEvent, type BatchOutcome, type Job, type JobArgs, type JobState, type Offer, type Result } from '../protocol/job.js';
import { Errors, type CoxError } from '../shared/errors.js';
import { uuid7 } from '../shared/uuid7.js';
import { check } from '../shared/validate.js';
import { isBuiltinCommand } from '../protocol/builtins.js';
import { PollHub } from './dispatch/poll-hub.js';
import { matchesNode, route, type Target } from './dispatch/routing.js';
import { Waiters } from './dispatch/waiters.js';
import { ControllerProcesses } from './processes.js';
import { nodeName, type JobStore, type JobSummary, type JobView, type NewJob, type NodeKey, type Session } from './store/job-store.js';

export interface ControllerOptions {
  store: JobStore;
  logger: Logger;
  /** Epoch ms; a fake in tests. */
  now?: () => number;
  pollTimeoutMs: number;
  ttlMs: number;
  ackTimeoutMs: number;
}

export interface SubmitRequest {
  cmd: string;
  args?: Partial<JobArgs> & Record<string, unknown>;
  data?: string;
  gid?: number;
  nid?: number;
  roles?: string[];
  fanout?: boolean;
  tags?: string;
  id?: string;
  /** Seconds to hold the reply until the job ends. */
  wait?: number;
}

/** listSessions as JumpScale answers it: `{"<gid>_<nid>": [last_seen_epoch_seconds, role, ...]}`. */
export type SessionList = Record<string, [number, ...string[]]>;

export const NO_MATCH = 'no matching connected agents';

export class Controller {
  readonly store: JobStore;
  readonly polls = new PollHub();
  /** Named processes (REFERENCE 3). */
  readonly processes: ControllerProcesses;
  readonly now: () => number;
  readonly #jobs = new Waiters<null>();
  /**
   * Jobs routed to each node whose store write has not committed yet (the store commits the
   * submits of one event-loop turn together): the shortest-queue choice counts them, else every
   * submit of a turn would go to the same node.
   */
  readonly #routing = new Map<string, number>();
  #facts: Promise<{ live: Session[]; lengths: Map<string, number> }> | null = null;
  /** When each node's sign of life was last written to the store, and with which roles. */
  readonly #seen = new Map<string, { roles: string; at: number }>();
  readonly #log: Logger;
  readonly #opts: ControllerOptions;
  readonly #unsubscribe: () => void;

  constructor(opts: ControllerOptions) {
    this.#opts = opts;
    this.store = opts.store;
    this.now = opts.now ?? Date.now;
    this.#log = opts.logger;
    this.processes = new ControllerProcesses({ store: opts.store, logger: opts.logger, now: this.now, ttlMs: opts.ttlMs });
    this.#unsubscribe = opts.store.subscribe((e) => {
      if (e.kind === 'work') {
        this.polls.wake(e.node);
        // Queue lengths just changed: routing must not go on reading the ones from before.
        this.#facts = null;
      } else if (e.kind === 'done') this.#jobs.wake(e.id);
      else if (e.kind === 'finished') this.processes.wake();
      else {
        this.#seen.clear();
        this.polls.wakeAll();
        this.#jobs.wakeAll();
        this.processes.wake();
        this.processes.restoreCores().catch((err: unknown) => this.#log.warn({ err }, 'could not write the announced cores again after the store came back'));
        this.#facts = null;
      }
    });
  }

  /**
   * A long poll: up to `max` of the node's next jobs, each leased until the ack timeout, or none
   * when the wait ends. `max` 0: the node has no free job slot, so it gets only urgent jobs (kills,
   * built-ins and process starts, which take none), one a poll; it polls even so to stay connected.
   */
  async poll(node: NodeKey, roles: string[], timeoutMs: number, signal?: AbortSignal, max = 1): Promise<Offer[]> {
    const deadline = this.now() + Math.min(timeoutMs, this.#opts.pollTimeoutMs);
    for (;;) {
      // An offer to a poll whose client already left would only sit out its lease.
      if (signal?.aborted) return [];
      // Again after each wake-up: after a resync the store may have lost the session (a Redis
      // restarted without its data), and a poll that is held open must bring it back.
      await this.#touch(node, roles);
      const wait = this.polls.wait(node, roles, deadline - this.now(), signal, max === 0);
      const offers = await this.store.offerNext(node, randomUUID, this.now() + this.#opts.ackTimeoutMs, Math.max(1, max), max === 0);
      if (offers.length > 0) {
        wait.cancel();
        return offers;
      }
      wait.meta.listening = true;
      if ((await wait.promise) !== 'woken') return [];
      if (wait.meta.handed) return wait.meta.handed;
    }
  }

  /** Confirms offers, all in one store transaction; a stale lease fails only its own item. */
  async ack(node: NodeKey, acks: readonly Ack[]): Promise<BatchOutcome[]> {
    const taken = await this.store.ack(node, acks, this.now());
    return acks.map(({ id }, i) => (taken[i] ? { id, ok: true } : refused(id, Errors.LEASE_INVALID(id))));
  }

  /** Stores results, all in one store transaction; one for a job never given to the node fails alone. */
  async result(node: NodeKey, results: readonly Result[]): Promise<BatchOutcome[]> {
    const stamped = results.map((r) => ({ ...r, gid: node.gid, nid: node.nid }));
    const taken = await this.store.complete(node, stamped, this.now());
    return results.map(({ id, state }, i) => {
      if (taken[i]) return { id, ok: true };
      this.#log.warn({ node: nodeName(node), id, state }, 'result refused: job unknown or never given to this node');
      return refused(id, Errors.NOT_FOUND(`job "${id}" for agent ${nodeName(node)}`));
    });
  }

  /** Any report from an agent shows it is alive, even when it is too busy to poll. */
  async sawAgent(node: NodeKey): Promise<void> {
    const now = this.now();
    const seen = this.#seen.get(nodeName(node));
    if (seen && now - seen.at < this.#opts.ttlMs / 4) return;
    await this.store.keepAlive([node], now);
    if (seen) seen.at = now;
  }

  /**
   * Records a poll in the store only when its roles changed or the stored sign of life is older
   * than a quarter of the TTL: one write per poll was a third of a job's cost, and a node whose
   * last_seen lags by less than TTL/4 is never taken for lost.
   */
  async #touch(node: NodeKey, roles: string[]): Promise<void> {
    const now = this.now();
    const key = nodeName(node);
    const rolesKey = roles.join('\n');
    const seen = this.#seen.get(key);
    if (seen && seen.roles === rolesKey && now - seen.at < this.#opts.ttlMs / 4) return;
    await this.store.touch(node, roles, now);
    this.#seen.set(key, { roles: rolesKey, at: now });
  }

  async event(node: NodeKey, event: AgentEvent): Promise<void> {
    // An agent lists every process it still knows when it (re)connects: too much for one log line.
    const { processes: _known, ...facts } = event;
    this.#log.info({ node: nodeName(node), event: facts }, 'agent event');
    if (event.name === 'startup' || event.name === 'reconnect') await this.processes.connected(node, event);
  }

  async submit(req: SubmitRequest, signal?: AbortSignal): Promise<JobView> {
    const job = check(jobSchema, {
      id: req.id ?? uuid7(),
      cmd: req.cmd,
      gid: req.gid ?? null,
      nid: req.nid ?? null,
      roles: req.roles ?? [],
      fanout: req.fanout ?? false,
      tags: req.tags ?? '',
      data: req.data ?? '',
      args: req.args ?? {},
    }, 'body');
    const view = await this.#dispatch(job);
    if (view.state === 'ERROR') this.#log.info({ id: job.id, cmd: job.cmd, roles: job.roles, nid: job.nid }, NO_MATCH);
    return req.wait ? ((await this.waitFor(job.id, req.wait * 1000, signal)) ?? view) : view;
  }

  /** The job once it ended, or as it stands when `timeoutMs` passed; null if unknown. */
  async waitFor(id: string, timeoutMs: number, signal?: AbortSignal): Promise<JobView | null> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const wait = this.#jobs.add(id, null, deadline - this.now(), signal);
      const view = await this.store.get(id);
      if (!view || TERMINAL_STATES.has(view.state)) {
        wait.cancel();
        return view;
      }
      // Woken without the job ending (a resync): wait on for what is left of the time.
      if ((await wait.promise) !== 'woken') return this.store.get(id);
    }
  }

  /** The job; with `waitMs`, once it ended or as it stands when the wait ran out. */
  async get(id: string, waitMs = 0, signal?: AbortSignal): Promise<JobView> {
    const view = waitMs > 0 ? await this.waitFor(id, waitMs, signal) : await this.store.get(id);
    if (!view) throw Errors.NOT_FOUND(`job "${id}"`);
    return view;
  }

  list(filter: { state?: JobState; limit: number }): Promise<JobSummary[]> {
    return this.store.list(filter);
  }

  /** Queued: KILLED at once. Held by an agent: the agent gets a `kill` job, ahead of its queue. */
  async kill(id: string): Promise<JobView> {
    const outcome = await this.store.kill(id, this.now());
    if (!outcome) throw Errors.NOT_FOUND(`job "${id}"`);
    for (const node of outcome.holders) {
      const kill = jobSchema.parse({ id: `kill-${randomUUID()}`, cmd: 'kill', gid: node.gid, nid: node.nid, args: { id } });
      await this.store.create({ job: kill, targets: [node], urgent: true }, this.now());
    }
    return outcome.view;
  }

  async sessions(): Promise<SessionList> {
    const live = await this.store.sessions(this.now() - this.#opts.ttlMs);
    return Object.fromEntries(live.map((s) => [nodeName(s), [Math.floor(s.lastSeen / 1000), ...s.roles]]));
  }

  /** Releases every pending wait (polls answer 204, waiting clients get the job as it stands). */
  close(): void {
    this.polls.close();
    this.#jobs.close();
    this.processes.close();
    this.#unsubscribe();
  }

  async #dispatch(job: Job): Promise<JobView> {
    const target: Target = { gid: job.gid, nid: job.nid, roles: job.roles, fanout: job.fanout };
    // An idle poller is live by definition, so the common case needs no session lookup.
    const idle = target.fanout ? null : this.polls.firstIdle(target);
    if (idle) {
      // Stored already offered to the idle poll and handed to it: one commit, no store read by
      // the poll, which is most of what a job costs an agent that is waiting for it.
      const node = { gid: idle.gid, nid: idle.nid };
      const lease = randomUUID();
      this.polls.reserve(node);
      try {
        const view = await this.#create(job, [node], { lease, expiresAt: this.now() + this.#opts.ackTimeoutMs });
        if (!this.polls.handOff(node, [{ ...job, gid: node.gid, nid: node.nid, lease }])) await this.store.withdrawOffer(job.id, node, lease);
        return view;
      } finally {
        this.polls.reserve(node, false);
      }
    }
    const { live, lengths } = await this.#routingFacts();
    // Only the sessions that match become candidates: a submit should not copy the whole fleet.
    const candidates = live
      .filter((s) => matchesNode(target, s, s.roles))
      .map((s) => {
        const name = nodeName(s);
        return { ...s, idleSince: null, queued: (lengths.get(name) ?? 0) + (this.#routing.get(name) ?? 0) };
      });
    return this.#create(job, route(target, candidates));
  }

  /**
   * Live sessions and queue lengths, read at most once per event-loop turn and again after each
   * commit that queued work: most submits of a turn are committed together after it
   * (GroupCommit), so until then the store would answer each of them the same, and jobs routed
   * meanwhile are counted in `#routing`.
   */
  #routingFacts(): Promise<{ live: Session[]; lengths: Map<string, number> }> {
    if (!this.#facts) {
      this.#facts = Promise.all([this.store.sessions(this.now() - this.#opts.ttlMs), this.store.queueLengths()]).then(([live, lengths]) => ({ live, lengths }));
      setImmediate(() => (this.#facts = null));
    }
    return this.#facts;
  }

  async #create(job: Job, targets: NodeKey[], offer?: NewJob['offer']): Promise<JobView> {
    const names = targets.map(nodeName);
    for (const name of names) this.#routing.set(name, (this.#routing.get(name) ?? 0) + 1);
    try {
      const urgent = isBuiltinCommand(job.cmd);
      return await this.store.create({ job, targets, ...(targets.length ? {} : { failure: NO_MATCH }), ...(offer ? { offer } : {}), ...(urgent ? { urgent } : {}) }, this.now());
    } finally {
      for (const name of names) {
        const left = this.#routing.get(name)! - 1;
        if (left === 0) this.#routing.delete(name);
        else this.#routing.set(name, left);
      }
    }
  }
}

function refused(id: string, err: CoxError): BatchOutcome {
  return { id, ok: false, code: err.code, message: err.message };
}
