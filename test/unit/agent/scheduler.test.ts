import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../../src/agent/jobs/scheduler.js';

describe('Scheduler', () => {
  it('starts at most max_jobs, first come first served', () => {
    const s = new Scheduler<string>(2);
    for (const id of ['a', 'b', 'c']) s.enqueue(id, '');
    expect(s.take()).toEqual(['a', 'b']);
    expect(s.take()).toEqual([]);
    s.done('');
    expect(s.take()).toEqual(['c']);
    expect(s.take()).toEqual([]);
  });

  it('runs one job per queue at a time without holding back other jobs', () => {
    const s = new Scheduler<string>(10);
    s.enqueue('q1', 'backup');
    s.enqueue('q2', 'backup');
    s.enqueue('free', '');
    s.enqueue('q3', 'backup');
    s.enqueue('other', 'mail');
    expect(s.take()).toEqual(['q1', 'free', 'other']);
    s.done('backup');
    expect(s.take()).toEqual(['q2']);
    s.done('backup');
    expect(s.take()).toEqual(['q3']);
  });

  it('takes a waiting job out of line', () => {
    const s = new Scheduler<string>(1);
    s.enqueue('a', '');
    s.enqueue('b', '');
    s.enqueue('c', '');
    expect(s.take()).toEqual(['a']);
    expect(s.remove('b')).toBe(true);
    expect(s.remove('a')).toBe(false);
    s.done('');
    expect(s.take()).toEqual(['c']);
  });
});
