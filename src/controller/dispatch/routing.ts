/**
 * Where a job goes (REFERENCE 2.1): to a node id, to the first available node having every
 * requested role (`*` = any node), or with `fanout` to every such node. Pure: the caller gathers
 * the live candidates, this decides.
 */
import type { NodeKey } from '../store/job-store.js';

export interface Target {
  gid: number | null;
  nid: number | null;
  /** All required; `*` matches any node. */
  roles: readonly string[];
  fanout: boolean;
}

export interface Candidate extends NodeKey {
  roles: readonly string[];
  /** When its pending poll started waiting; null when it has no idle poll. */
  idleSince: number | null;
  /** Deliveries queued or offered to it and not yet acknowledged. */
  queued: number;
}

export function matches(target: Target, c: Candidate): boolean {
  return matchesNode(target, c, c.roles);
}

export function matchesNode(target: Target, node: NodeKey, roles: readonly string[]): boolean {
  if (target.gid !== null && node.gid !== target.gid) return false;
  if (target.nid !== null && node.nid !== target.nid) return false;
  return target.roles.every((r) => r === '*' || roles.includes(r));
}

const byNode = (a: NodeKey, b: NodeKey) => a.gid - b.gid || a.nid - b.nid;

/**
 * The nodes the job goes to; empty when no live node matches. Without fanout: the idle poller
 * that has waited longest (it asked first), else the shortest queue, ties to the lowest gid/nid,
 * so the choice is never random.
 */
export function route(target: Target, candidates: readonly Candidate[]): NodeKey[] {
  const live = candidates.filter((c) => matches(target, c));
  if (live.length === 0) return [];
  if (target.fanout) return live.sort(byNode).map(key);
  const idle = live.filter((c) => c.idleSince !== null);
  if (idle.length > 0) return [key(least(idle, (a, b) => a.idleSince! - b.idleSince! || byNode(a, b)))];
  return [key(least(live, (a, b) => a.queued - b.queued || byNode(a, b)))];
}

/** The first of `items` by `compare`, without sorting them all: candidates can be thousands. */
function least<T>(items: readonly T[], compare: (a: T, b: T) => number): T {
  let best = items[0] as T;
  for (const item of items) if (compare(item, best) < 0) best = item;
  return best;
}

function key(n: NodeKey): NodeKey {
  return { gid: n.gid, nid: n.nid };
}
