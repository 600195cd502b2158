/**
 * Agents' pending long polls. Besides waking a node's polls when work arrives, it knows which
 * nodes are idle right now — waiting with nothing to do — so a role job goes to the node that
 * asked first instead of a random one.
 */
import { nodeName, type NodeKey } from '../store/job-store.js';
import type { Candidate } from './routing.js';
import { Waiters, type Waiting } from './waiters.js';

interface Poll {
  node: NodeKey;
  roles: readonly string[];
  /** Chosen for a job that is on its way: not idle any more for the next routing decision. */
  reserved: boolean;
}

export class PollHub {
  readonly #polls = new Waiters<Poll>();

  /** Registers a pending poll. Register before looking for work, so no wake-up is missed in between. */
  wait(node: NodeKey, roles: readonly string[], timeoutMs: number, signal?: AbortSignal): Waiting<Poll> {
    return this.#polls.add(nodeName(node), { node, roles, reserved: false }, timeoutMs, signal);
  }

  wake(node: NodeKey): void {
    this.#polls.wake(nodeName(node));
  }

  /** One candidate per node with an unreserved pending poll; `idleSince` is its earliest poll. */
  idle(): Candidate[] {
    const byNode = new Map<string, Candidate>();
    for (const w of this.#polls.waiting()) {
      if (w.meta.reserved || byNode.has(w.key)) continue;
      byNode.set(w.key, { ...w.meta.node, roles: w.meta.roles, idleSince: w.order, queued: 0 });
    }
    return [...byNode.values()];
  }

  /** Marks (or unmarks) a node's polls as taken by a job being stored for it. */
  reserve(node: NodeKey, reserved = true): void {
    for (const w of this.#polls.on(nodeName(node))) w.meta.reserved = reserved;
  }

  /** Nodes with a pending poll: alive, though their last poll began a while ago. */
  nodes(): NodeKey[] {
    const seen = new Map<string, NodeKey>();
    for (const w of this.#polls.waiting()) seen.set(w.key, w.meta.node);
    return [...seen.values()];
  }

  get size(): number {
    return this.#polls.size;
  }

  /** Releases every poll (they answer 204) and refuses new waits: the server is closing. */
  close(): void {
    this.#polls.close();
  }
}
