import { describe, expect, it } from 'vitest';
import { maskRedisUrl, parseRedisUrl } from '../../../src/controller/store/redis-url.js';

describe('--redis URLs', () => {
  it('reads host URLs with their database, and unix sockets with database and credentials', () => {
    expect(parseRedisUrl('redis://h:6379')).toEqual({ kind: 'tcp', url: 'redis://h:6379', db: 0 });
    expect(parseRedisUrl('rediss://u:p@h:6380/7')).toEqual({ kind: 'tcp', url: 'rediss://u:p@h:6380/7', db: 7 });
    expect(parseRedisUrl('unix:///run/redis/r.sock?db=2&user=ops&password=a%20b')).toEqual({ kind: 'unix', path: '/run/redis/r.sock', db: 2, username: 'ops', password: 'a b' });
  });

  it('names what is wrong instead of falling back to database 0', () => {
    expect(parseRedisUrl('http://h')).toEqual({ error: 'not a redis://, rediss:// or unix:// URL' });
    expect(parseRedisUrl('redis://h/abc')).toEqual({ error: 'database "abc" is not a number (0, 1, 2, …)' });
    expect(parseRedisUrl('redis://h/-1')).toEqual({ error: 'database "-1" is not a number (0, 1, 2, …)' });
    expect(parseRedisUrl('unix:///r.sock?db=x')).toEqual({ error: 'database "x" is not a number (0, 1, 2, …)' });
    expect(parseRedisUrl('unix://host/r.sock')).toMatchObject({ error: expect.stringContaining('unix:///path/redis.sock') });
    expect(parseRedisUrl('unix://?db=1')).toEqual({ error: 'no socket path' });
  });

  it('masks passwords in both places a URL carries them', () => {
    expect(maskRedisUrl('redis://ops:s3cret@h:1/2')).toBe('redis://ops:***@h:1/2');
    expect(maskRedisUrl('unix:///r.sock?db=1&password=s3cret&x=1')).toBe('unix:///r.sock?db=1&password=***&x=1');
  });
});
