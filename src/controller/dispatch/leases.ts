/**
 * Acknowledged hand-off. An offer carries a lease; the agent confirms it within the ack timeout
 * or the offer is taken back. The original marked a job RUNNING on hand-off, so a lost HTTP reply
 * left it RUNNING forever (REFERENCE 2.1).
 */
import { nodeName, type DeliveryRef, type NodeKey } from '../store/job-store.js';

/** A job is offered once, then once more; a node that never confirms it gets it no further. */
export const MAX_OFFERS = 2;

export interface ExpiredLease extends DeliveryRef {
  /** Submission order of the job. */
  seq: number;
  /** How many times it has been offered, this offer included. */
  offers: number;
}

export interface LeaseVerdicts {
  /** In submission order, so a store that pushes onto a queue's head can keep the order. */
  reoffer: ExpiredLease[];
  fail: { lease: ExpiredLease; reason: string }[];
}

export function leaseVerdicts(expired: readonly ExpiredLease[], maxOffers = MAX_OFFERS): LeaseVerdicts {
  const sorted = [...expired].sort((a, b) => a.seq - b.seq || a.gid - b.gid || a.nid - b.nid);
  return {
    reoffer: sorted.filter((l) => l.offers < maxOffers),
    fail: sorted.filter((l) => l.offers >= maxOffers).map((lease) => ({ lease, reason: unacknowledged(lease, lease.offers) })),
  };
}

function unacknowledged(node: NodeKey, offers: number): string {
  return `agent ${nodeName(node)} did not acknowledge the job after ${offers} offers`;
}

export function lostReason(node: NodeKey): string {
  return `agent ${nodeName(node)} lost`;
}
