import { describe, expect, it } from 'vitest';
import { aggregateState, type DeliveryState } from '../../../src/controller/dispatch/job-state.js';
import { leaseVerdicts, MAX_OFFERS, type ExpiredLease } from '../../../src/controller/dispatch/leases.js';

const lease = (id: string, seq: number, offers: number): ExpiredLease => ({ id, seq, offers, gid: 1, nid: 10 });

describe('leaseVerdicts', () => {
  it('offers a job again once, then gives up with a reason naming the node', () => {
    const { reoffer, fail } = leaseVerdicts([lease('a', 1, 1), lease('b', 2, MAX_OFFERS)]);
    expect(reoffer.map((l) => l.id)).toEqual(['a']);
    expect(fail).toEqual([{ lease: lease('b', 2, 2), reason: 'agent 1_10 did not acknowledge the job after 2 offers' }]);
  });

  it('puts re-offers in submission order, whatever order they expired in', () => {
    const { reoffer } = leaseVerdicts([lease('c', 30, 1), lease('a', 10, 1), lease('b', 20, 1)]);
    expect(reoffer.map((l) => l.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('aggregateState', () => {
  const of = (entries: [DeliveryState, number][]) => aggregateState(new Map(entries));

  it('is QUEUED until some node took it, RUNNING until all ended', () => {
    expect(of([['QUEUED', 1], ['OFFERED', 2]])).toBe('QUEUED');
    expect(of([['QUEUED', 1], ['RUNNING', 1]])).toBe('RUNNING');
    expect(of([['QUEUED', 1], ['SUCCESS', 1]])).toBe('RUNNING');
  });

  it('is SUCCESS only when every node succeeded, else the worst state', () => {
    expect(of([['SUCCESS', 3]])).toBe('SUCCESS');
    expect(of([['SUCCESS', 2], ['KILLED', 1]])).toBe('KILLED');
    expect(of([['TIMEOUT', 1], ['ERROR', 1], ['SUCCESS', 1]])).toBe('ERROR');
  });

  it('is ERROR for a job that went nowhere', () => {
    expect(of([])).toBe('ERROR');
  });
});
