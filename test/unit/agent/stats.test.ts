import { describe, expect, it } from 'vitest';
import { StatsAggregator } from '../../../src/agent/stats/statsd.js';

const flushed = (s: StatsAggregator) => Object.fromEntries(s.flush());

describe('StatsAggregator', () => {
  it('aggregates each statsd type per REFERENCE 2.3', () => {
    const s = new StatsAggregator();
    for (const line of ['temp:20|g', 'temp:+5|g', 'temp:-2|g', 'req:1|c', 'req:2|c', 'req:1|c|@0.5', 'lat:10|ms', 'lat:30|ms', 'users:ann|s', 'users:bob|s', 'users:ann|s', 'mode:1|kv', 'mode:3|kv']) {
      expect(s.add(line)).toBe(true);
    }
    expect(flushed(s)).toEqual({ temp: 23, req: 5, lat: 20, users: 2, mode: 3 });
  });

  it('resets counters, timers, sets and kv each flush and keeps gauges for relative updates', () => {
    const s = new StatsAggregator();
    s.add('temp:20|g');
    s.add('req:4|c');
    s.flush();
    expect(s.flush()).toEqual([]);
    s.add('temp:+1|g');
    s.add('req:1|c');
    expect(flushed(s)).toEqual({ temp: 21, req: 1 });
  });

  it('refuses lines that are not statsd', () => {
    const s = new StatsAggregator();
    for (const line of ['nocolon|c', 'k:abc|c', 'k:1|x', 'k:1|c|@0', 'k:1|c|@2', ':1|g', 'k:1']) expect(s.add(line), line).toBe(false);
    expect(s.flush()).toEqual([]);
  });

  it('bounds the number of keys and forgets a prefix', () => {
    const s = new StatsAggregator(2);
    expect(s.add('x:1|c')).toBe(true);
    expect(s.add('z:1|ms')).toBe(true);
    expect(s.add('y:1|c')).toBe(false);
    expect(s.add('x:2|c')).toBe(true);
    expect(flushed(s)).toEqual({ x: 3, z: 1 });
    s.gauge('job.a.cpu', 1);
    s.forget('job.a.');
    expect(flushed(s)).toEqual({});
  });

  it('lets a new key take the place of the gauge set longest ago once the bound is reached', () => {
    const s = new StatsAggregator(3);
    for (const key of ['old', 'mid', 'new']) expect(s.add(`${key}:1|g`)).toBe(true);
    expect(s.add('old:+1|g')).toBe(true);
    flushed(s);
    // Gauges outlive flushes: without giving way they would hold every key for good.
    expect(s.add('later:5|c')).toBe(true);
    expect(flushed(s)).toEqual({ later: 5 });
    expect(s.add('old:+1|g')).toBe(true);
    expect(s.add('mid:+1|g')).toBe(true);
    expect(flushed(s)).toEqual({ old: 3, mid: 1 });
  });
});
