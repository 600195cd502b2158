import { describe, expect, it } from 'vitest';
import { route, type Candidate, type Target } from '../../../src/controller/dispatch/routing.js';

const node = (gid: number, nid: number, roles: string[], extra: Partial<Candidate> = {}): Candidate => ({ gid, nid, roles, idleSince: null, queued: 0, ...extra });
const to = (t: Partial<Target>): Target => ({ gid: null, nid: null, roles: [], fanout: false, ...t });

describe('route', () => {
  const fleet = [node(1, 10, ['storage', 'db']), node(1, 11, ['storage']), node(2, 10, ['cpu']), node(1, 1, [])];

  it('sends a job for gid+nid to that node only, whatever its roles', () => {
    expect(route(to({ gid: 1, nid: 10 }), fleet)).toEqual([{ gid: 1, nid: 10 }]);
    expect(route(to({ gid: 2, nid: 10 }), fleet)).toEqual([{ gid: 2, nid: 10 }]);
    expect(route(to({ gid: 3, nid: 10 }), fleet)).toEqual([]);
  });

  it('matches a nid exactly (node 1 is not node 10)', () => {
    expect(route(to({ gid: 1, nid: 1 }), fleet)).toEqual([{ gid: 1, nid: 1 }]);
  });

  it('needs every requested role on the node', () => {
    expect(route(to({ roles: ['storage', 'db'] }), fleet)).toEqual([{ gid: 1, nid: 10 }]);
    expect(route(to({ roles: ['storage', 'cpu'] }), fleet)).toEqual([]);
  });

  it('treats * as any node, and combines it with other roles', () => {
    expect(route(to({ roles: ['*'], fanout: true }), fleet)).toHaveLength(4);
    expect(route(to({ roles: ['*', 'cpu'] }), fleet)).toEqual([{ gid: 2, nid: 10 }]);
  });

  it('restricts role jobs to a gid when one is given', () => {
    expect(route(to({ gid: 2, roles: ['*'], fanout: true }), fleet)).toEqual([{ gid: 2, nid: 10 }]);
  });

  it('gives a role job to the idle poller that has waited longest, not a random one', () => {
    const c = [node(1, 10, ['s'], { idleSince: 7 }), node(1, 11, ['s'], { idleSince: 3 }), node(1, 12, ['s'], { queued: 0 })];
    expect(route(to({ roles: ['s'] }), c)).toEqual([{ gid: 1, nid: 11 }]);
  });

  it('without an idle poller, picks the shortest queue, ties to the lowest gid/nid', () => {
    const c = [node(1, 12, ['s'], { queued: 2 }), node(1, 11, ['s'], { queued: 1 }), node(1, 10, ['s'], { queued: 1 })];
    expect(route(to({ roles: ['s'] }), c)).toEqual([{ gid: 1, nid: 10 }]);
  });

  it('fans out to every matching node, in node order', () => {
    expect(route(to({ roles: ['storage'], fanout: true }), fleet)).toEqual([{ gid: 1, nid: 10 }, { gid: 1, nid: 11 }]);
  });

  it('answers no node when nothing matches, fanout or not', () => {
    expect(route(to({ roles: ['gpu'] }), fleet)).toEqual([]);
    expect(route(to({ roles: ['gpu'], fanout: true }), fleet)).toEqual([]);
    expect(route(to({ roles: ['*'] }), [])).toEqual([]);
  });
});
