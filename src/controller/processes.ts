/**
 * The process API of REFERENCE 3 (MUSCLE3's AgentManager) on top of the job controller: a start
 * is a `start_process` job to exactly one node, stored with the process in one transaction, so it
 * inherits the acknowledged hand-off of jobs; agents report exits on their own channel and keep
 * them until the controller answers that it stored them; clients take finished processes once.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { job as jobSchema } from '../protocol/job.js';
import { CANCEL_PROCESSES, NODE_NAME, START_PROCESS, startupFacts, type Cores, type ProcessExit, type ProcessSpec } from '../protocol/process.js';
import { Errors } from '../shared/errors.js';
import { Waiters } from './dispatch/waiters.js';
import { nodeName, type JobStore, type NodeKey } from './store/job-store.js';
import type { FinishedProcess, ProcessView } from './store/process-store.js';

export interface StartRequest extends ProcessSpec {
  /** `<gid>_<nid>`, matched exactly. */
  node: string;
}

export interface StartedProcess {
  id: string;
  node: string;
  name: string;
}

export interface CancelReport {
  /** Nodes told to kill every process they started. */
  nodes: string[];
  /** Processes whose start had not reached their agent: they end NOT_STARTED. */
  withdrawn: number;
}

/** Finished processes handed out per call, at most; the rest come with the next call. */
export const TAKE_LIMIT = 10_000;

export interface ControllerProcessesOptions {
  store: JobStore;
  logger: Logger;
  now: () => number;
  ttlMs: number;
}

export class ControllerProcesses {
  readonly #finished = new Waiters<null>();
  /**
   * The cores each node last announced here. An agent announces them only when it connects, so a
   * store that lost them (a Redis restarted empty) gets them back from here, not from the agent.
   */
  readonly #announced = new Map<string, { node: NodeKey; cores: Cores }>();

  constructor(private readonly o: ControllerProcessesOptions) {}

  async start(req: StartRequest): Promise<StartedProcess> {
    const { node: name, ...spec } = req;
    const node = parseNode(name);
    const live = await this.#live();
    if (!live.some((n) => n.gid === node.gid && n.nid === node.nid)) {
      const known = live.map(nodeName).join(', ') || 'none';
      throw Errors.NODE_UNKNOWN(`node ${name} is not connected (connected nodes: ${known})`);
    }
    const job = jobSchema.parse({ id: randomUUID(), cmd: START_PROCESS, ...node, args: spec });
    // A start takes none of the agent's job slots (isBuiltinCommand): it reaches a busy agent too.
    await this.o.store.create({ job, targets: [node], process: { name: spec.name, spec }, urgent: true }, this.o.now());
    return { id: job.id, node: name, name: spec.name };
  }

  /**
   * Starts not yet taken by an agent are withdrawn first; every connected node then gets an
   * urgent `cancel_all_processes`, which it reads after any start it already took.
   */
  async cancelAll(): Promise<CancelReport> {
    const { store } = this.o;
    const unstarted = await store.processes.unstarted();
    for (const id of unstarted) await store.kill(id, this.o.now());
    const nodes = await this.#live();
    for (const node of nodes) {
      const job = jobSchema.parse({ id: `cancel-${randomUUID()}`, cmd: CANCEL_PROCESSES, ...node });
      await store.create({ job, targets: [node], urgent: true }, this.o.now());
    }
    return { nodes: nodes.map(nodeName), withdrawn: unstarted.length };
  }

  /** Finished processes not handed out before; waits up to `waitMs` for the first if there is none. */
  async take(key: string, waitMs: number, signal?: AbortSignal): Promise<FinishedProcess[]> {
    // Registered before looking, so a process finishing in between still wakes it.
    const wait = waitMs > 0 ? this.#finished.add('finished', null, waitMs, signal) : null;
    const found = await this.o.store.processes.take(key, TAKE_LIMIT);
    if (found.length > 0 || !wait) {
      wait?.cancel();
      return found;
    }
    await wait.promise;
    // A caller that went away would never see what it took.
    return signal?.aborted ? [] : this.o.store.processes.take(key, TAKE_LIMIT);
  }

  list(limit: number): Promise<ProcessView[]> {
    return this.o.store.processes.list(limit);
  }

  /** An agent's exit reports; answers the ids it may forget. */
  report(node: NodeKey, exits: ProcessExit[]): Promise<string[]> {
    return this.o.store.processes.report(node, exits);
  }

  /** A `startup` or `reconnect` event: the node's cores, and the processes it still knows. */
  async connected(node: NodeKey, event: unknown): Promise<void> {
    const facts = startupFacts.safeParse(event);
    if (!facts.success) return void this.o.logger.warn({ node: nodeName(node), err: facts.error.message }, 'startup event without valid process facts');
    if (facts.data.cores) {
      this.#announced.set(nodeName(node), { node, cores: facts.data.cores });
      await this.o.store.processes.putCores(node, facts.data.cores, this.o.now());
    }
    if (!facts.data.processes) return;
    const lost = await this.o.store.processes.reconcile(node, facts.data.processes, this.o.now());
    if (lost.length > 0) this.o.logger.warn({ node: nodeName(node), lost }, 'agent does not know processes it had taken: they end lost');
  }

  /** Cores of every connected node that reported them. */
  async resources(): Promise<Record<string, Cores>> {
    return Object.fromEntries(await this.o.store.processes.cores(await this.#live()));
  }

  /** The store may have lost what agents announced: written again, as the store's sessions are by the polls. */
  async restoreCores(): Promise<void> {
    for (const { node, cores } of this.#announced.values()) await this.o.store.processes.putCores(node, cores, this.o.now());
  }

  /** A process finished: wake whoever waits in `take`. */
  wake(): void {
    this.#finished.wake('finished');
  }

  close(): void {
    this.#finished.close();
  }

  async #live(): Promise<NodeKey[]> {
    return (await this.o.store.sessions(this.o.now() - this.o.ttlMs)).map((s) => ({ gid: s.gid, nid: s.nid }));
  }
}

function parseNode(name: string): NodeKey {
  const m = NODE_NAME.exec(name);
  if (!m) throw Errors.BAD_REQUEST(`body.node: expected a node name <gid>_<nid> as cox sessions lists it, e.g. 1_10; got "${name}"`);
  return { gid: Number(m[1]), nid: Number(m[2]) };
}
