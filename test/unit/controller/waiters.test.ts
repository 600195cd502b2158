import { afterEach, describe, expect, it, vi } from 'vitest';
import { PollHub } from '../../../src/controller/dispatch/poll-hub.js';
import { Waiters } from '../../../src/controller/dispatch/waiters.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('Waiters', () => {
  it('settles each wait exactly once and removes it, however it ends', async () => {
    vi.useFakeTimers();
    const w = new Waiters<null>();
    const ac = new AbortController();
    const woken = w.add('a', null, 1000);
    const timed = w.add('b', null, 500);
    const aborted = w.add('c', null, 1000, ac.signal);
    expect(w.size).toBe(3);
    expect(w.wake('a')).toBe(1);
    ac.abort();
    vi.advanceTimersByTime(600);
    woken.cancel();
    expect(await Promise.all([woken.promise, timed.promise, aborted.promise])).toEqual(['woken', 'timeout', 'closed']);
    expect(w.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('releases every wait on close, and ends later ones at once', async () => {
    const w = new Waiters<null>();
    const pending = [w.add('a', null, 60_000), w.add('a', null, 60_000)];
    w.close();
    expect(await Promise.all(pending.map((p) => p.promise))).toEqual(['closed', 'closed']);
    expect(await w.add('b', null, 60_000).promise).toBe('closed');
    expect(w.size).toBe(0);
  });
});

describe('PollHub', () => {
  it('finds the idle node that waited longest and matches, leaving reserved ones out', () => {
    const hub = new PollHub();
    const any = { gid: null, nid: null, roles: ['*'], fanout: false };
    hub.wait({ gid: 1, nid: 2 }, ['a'], 60_000);
    hub.wait({ gid: 1, nid: 1 }, ['b'], 60_000);
    hub.wait({ gid: 1, nid: 2 }, ['a'], 60_000);
    expect(hub.firstIdle(any)).toEqual({ gid: 1, nid: 2 });
    expect(hub.firstIdle({ ...any, roles: ['b'] })).toEqual({ gid: 1, nid: 1 });
    expect(hub.firstIdle({ ...any, roles: ['c'] })).toBeNull();
    expect(hub.firstIdle({ ...any, gid: 1, nid: 1 })).toEqual({ gid: 1, nid: 1 });
    expect(hub.firstIdle({ ...any, gid: 1, nid: 1, roles: ['a'] })).toBeNull();
    expect(hub.firstIdle({ ...any, nid: 1 })).toEqual({ gid: 1, nid: 1 });
    hub.reserve({ gid: 1, nid: 2 });
    expect(hub.firstIdle(any)).toEqual({ gid: 1, nid: 1 });
    hub.reserve({ gid: 1, nid: 2 }, false);
    expect(hub.nodes()).toEqual([{ gid: 1, nid: 2 }, { gid: 1, nid: 1 }]);
    hub.close();
    expect(hub.size).toBe(0);
  });
});
