/** What one change sends to Redis, decided without a server: documents come from the cache. */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Change } from '../../../src/controller/store/redis-change.js';
import { DocCache } from '../../../src/controller/store/redis-doc-cache.js';

const noServer = {} as Redis;

describe('a change on the Redis store', () => {
  it('sends a fixed part (a job spec) with the first version only, and decides later ones with it put back', async () => {
    const cache = new DocCache();
    const first = new Change(noServer, cache);
    await first.expectAbsent('job:a');
    first.put('job:a', { state: 'QUEUED', job: { id: 'a', data: 'x'.repeat(1000) } }, undefined, ['job']);
    const [, ops, ...docs] = first.script('events', 'me');
    expect(JSON.parse(ops!)).toEqual([['HSET', 'job:a', 'v', '1', 'doc', 3, 'fixed', 4]]);
    expect(docs).toEqual(['{"state":"QUEUED"}', `{"job":{"id":"a","data":"${'x'.repeat(1000)}"}}`]);
    for (const [key, stored] of first.settled()) cache.set(key, stored);

    const next = new Change(noServer, cache);
    const doc = await next.doc<{ state: string; job: { id: string } }>('job:a');
    expect(doc).toMatchObject({ state: 'QUEUED', job: { id: 'a' } });
    next.put('job:a', { ...doc!, state: 'RUNNING' }, undefined, ['job']);
    const [checks, later, ...sent] = next.script('events', 'me');
    expect(JSON.parse(checks!)).toEqual([['ver', 'job:a', 1]]);
    expect(JSON.parse(later!)).toEqual([['HSET', 'job:a', 'v', '2', 'doc', 3]]);
    expect(sent).toEqual(['{"state":"RUNNING"}']);
  });
});

describe('the document cache', () => {
  it('is bounded in entries and in size, dropping the oldest first, and keeps nothing too large', () => {
    const cache = new DocCache({ entries: 3, chars: 100 });
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, { v: 1, json: 'x'.repeat(10) });
    expect(['a', 'b', 'c', 'd'].map((k) => cache.get(k) !== undefined)).toEqual([false, true, true, true]);
    cache.set('big', { v: 1, json: 'y'.repeat(60), fixed: 'z'.repeat(20) });
    expect(['b', 'c', 'd', 'big'].map((k) => cache.get(k) !== undefined)).toEqual([false, true, true, true]);
    expect(cache.chars).toBe(100);
    cache.set('huge', { v: 1, json: 'h'.repeat(101) });
    expect(cache.get('huge')).toBeUndefined();
    cache.set('d', null);
    expect(cache.chars).toBe(90);
  });
});
