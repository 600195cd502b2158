/**
 * Agents' pending long polls. Besides waking a node's polls when work arrives, it knows which
 * nodes are idle right now — waiting with nothing to do — so a role job goes to the node that
 * asked first instead of a random one, and is handed to that poll directly.
 */
import type { Offer } from '../../protocol/job.js';
import { nodeName, type NodeKey } from '../store/job-store.js';
import { matchesNode, type Target } from './routing.js';
import { Waiters, type Waiting } from './waiters.js';

export interface Poll {
  node: NodeKey;
  roles: readonly string[];
  /** Chosen for a job that is on its way: not idle any more for the next routing decision. */
  reserved: boolean;
  /** It looked in the store, found nothing, and now only waits: idle, and may be handed a job. */
  listening: boolean;
  /** Asked for no job (`max` 0): its node has no free slot, so it is never idle and takes urgent jobs only. */
  urgentOnly: boolean;
  /** Offers handed to it (handOff), which it answers instead of looking in the store again. */
  handed: Offer[] | null;
}

const idle = (p: Poll) => p.listening && !p.reserved && !p.urgentOnly;

export class PollHub {
  readonly #polls = new Waiters<Poll>();

  /** Registers a pending poll. Register before looking for work, so no wake-up is missed in between. */
  wait(node: NodeKey, roles: readonly string[], timeoutMs: number, signal?: AbortSignal, urgentOnly = false): Waiting<Poll> {
    return this.#polls.add(nodeName(node), { node, roles, reserved: false, listening: false, urgentOnly, handed: null }, timeoutMs, signal);
  }

  wake(node: NodeKey): void {
    this.#polls.wake(nodeName(node));
  }

  wakeAll(): void {
    this.#polls.wakeAll();
  }

  /**
   * The idle node (an unreserved pending poll) that has waited longest and matches `target`, or
   * null. Called on every submit with up to thousands of pollers waiting, so it allocates nothing,
   * looks a node id up directly, and stops at the first match: nodes come in the order their
   * earliest pending poll began.
   */
  firstIdle(target: Target): NodeKey | null {
    if (target.gid !== null && target.nid !== null) {
      const [first] = this.#polls.on(nodeName({ gid: target.gid, nid: target.nid }));
      return first && idle(first.meta) && matchesNode(target, first.meta.node, first.meta.roles) ? first.meta.node : null;
    }
    for (const w of this.#polls.firstOfEachKey()) {
      if (idle(w.meta) && matchesNode(target, w.meta.node, w.meta.roles)) return w.meta.node;
    }
    return null;
  }

  /**
   * Gives `offers` to the node's longest-waiting listening poll that has a free slot, and wakes
   * that poll alone: it answers them without another store read. False when there is none any
   * more (it ended, was woken by other work meanwhile, or its node filled up): the caller takes
   * the offers back.
   */
  handOff(node: NodeKey, offers: Offer[]): boolean {
    for (const w of this.#polls.on(nodeName(node))) {
      if (!w.meta.listening || w.meta.urgentOnly) continue;
      w.meta.handed = offers;
      w.wake();
      return true;
    }
    return false;
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
