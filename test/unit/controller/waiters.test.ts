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
  it('lists idle nodes once each, oldest poll first, leaving reserved ones out', () => {
    const hub = new PollHub();
    hub.wait({ gid: 1, nid: 2 }, ['a'], 60_000);
    hub.wait({ gid: 1, nid: 1 }, ['b'], 60_000);
    hub.wait({ gid: 1, nid: 2 }, ['a'], 60_000);
    expect(hub.idle().map((c) => [c.nid, c.idleSince])).toEqual([[2, 1], [1, 2]]);
    hub.reserve({ gid: 1, nid: 2 });
    expect(hub.idle().map((c) => c.nid)).toEqual([1]);
    hub.reserve({ gid: 1, nid: 2 }, false);
    expect(hub.nodes()).toEqual([{ gid: 1, nid: 2 }, { gid: 1, nid: 1 }]);
    hub.close();
    expect(hub.size).toBe(0);
  });
});
