import { afterEach, describe, expect, it, vi } from 'vitest';
import { jobArgs } from '../../../src/protocol/job.js';
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
    const busy = hub.wait({ gid: 1, nid: 3 }, ['a'], 60_000);
    listen(hub, { gid: 1, nid: 2 }, ['a']);
    listen(hub, { gid: 1, nid: 1 }, ['b']);
    listen(hub, { gid: 1, nid: 2 }, ['a']);
    // Still looking in the store: not idle yet, though it began first.
    expect(busy.meta.listening).toBe(false);
    expect(hub.firstIdle({ ...any, nid: 3 })).toBeNull();
    expect(hub.firstIdle(any)).toEqual({ gid: 1, nid: 2 });
    expect(hub.firstIdle({ ...any, roles: ['b'] })).toEqual({ gid: 1, nid: 1 });
    expect(hub.firstIdle({ ...any, roles: ['c'] })).toBeNull();
    expect(hub.firstIdle({ ...any, gid: 1, nid: 1 })).toEqual({ gid: 1, nid: 1 });
    expect(hub.firstIdle({ ...any, gid: 1, nid: 1, roles: ['a'] })).toBeNull();
    expect(hub.firstIdle({ ...any, nid: 1 })).toEqual({ gid: 1, nid: 1 });
    hub.reserve({ gid: 1, nid: 2 });
    expect(hub.firstIdle(any)).toEqual({ gid: 1, nid: 1 });
    hub.reserve({ gid: 1, nid: 2 }, false);
    expect(hub.nodes()).toEqual([{ gid: 1, nid: 3 }, { gid: 1, nid: 2 }, { gid: 1, nid: 1 }]);
    hub.close();
    expect(hub.size).toBe(0);
  });

  it('hands offers to the longest-listening poll of the node and wakes that one alone', async () => {
    const hub = new PollHub();
    const node = { gid: 1, nid: 2 };
    expect(hub.handOff(node, [])).toBe(false);
    const looking = hub.wait(node, [], 60_000);
    expect(hub.handOff(node, [])).toBe(false);
    const first = listen(hub, node, []);
    const second = listen(hub, node, []);
    const offer = { id: 'j', gid: 1, nid: 2, cmd: 'x', roles: [], fanout: false, tags: '', data: '', args: jobArgs.parse({}), lease: 'L' };
    expect(hub.handOff(node, [offer])).toBe(true);
    expect(await first.promise).toBe('woken');
    expect(first.meta.handed).toEqual([offer]);
    expect([second.meta.handed, hub.size]).toEqual([null, 2]);
    looking.cancel();
    second.cancel();
  });
});

function listen(hub: PollHub, node: { gid: number; nid: number }, roles: string[]) {
  const w = hub.wait(node, roles, 60_000);
  w.meta.listening = true;
  return w;
}
