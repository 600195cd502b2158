import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isCoxError } from '../../../src/shared/errors.js';
import { checkControllerOptions, parseDuration, withControllerOptions, type ControllerDaemonOptions } from '../../../src/controller/options.js';

const parse = (argv: string[]) => withControllerOptions(new Command('controller')).exitOverride().parse(argv, { from: 'user' }).opts<ControllerDaemonOptions>();

/** The CONFIG_INVALID error `fn` throws. */
function configError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    expect(isCoxError(err) && err.code).toBe('COX_CONFIG_INVALID');
    return err as Error;
  }
  throw new Error('nothing was refused');
}

afterEach(() => vi.unstubAllEnvs());

describe('controller options', () => {
  it('defaults as documented: loopback, port 8966, 60 s poll, 30 s TTL, 10 s ack, 7 days retention, no Redis', () => {
    vi.stubEnv('COX_REDIS', undefined);
    expect(parse([])).toMatchObject({ address: '127.0.0.1', port: 8966, pollTimeout: 60_000, ttl: 30_000, ackTimeout: 10_000, retention: 7 * 86_400_000, requireClientCert: false, redisPrefix: 'cox:' });
    // Left unset, so that the daemon can tell a --db given next to --redis from the default file.
    expect(parse([]).db).toBeUndefined();
    expect(parse([]).redis).toBeUndefined();
  });

  it('takes a Redis URL from --redis or COX_REDIS, with a key prefix', () => {
    expect(parse(['--redis', 'redis://u:p@10.0.0.5:6380/2', '--redis-prefix', 'lab2:'])).toMatchObject({ redis: 'redis://u:p@10.0.0.5:6380/2', redisPrefix: 'lab2:' });
    expect(parse(['--redis', 'rediss://cache.example:6380']).redis).toBe('rediss://cache.example:6380');
    vi.stubEnv('COX_REDIS', 'unix:///run/redis/redis.sock?db=1');
    expect(parse([]).redis).toBe('unix:///run/redis/redis.sock?db=1');
    expect(() => checkControllerOptions(parse([]))).not.toThrow();
  });

  it('refuses a Redis URL of another scheme, naming --redis', () => {
    for (const url of ['localhost:6379', 'http://localhost:6379', 'redis:/x']) {
      expect(configError(() => parse(['--redis', url])).message).toBe(`--redis (or COX_REDIS): "${url}": not a redis://, rediss:// or unix:// URL`);
    }
    expect(configError(() => parse(['--redis', 'unix://'])).message).toBe('--redis (or COX_REDIS): "unix://": no socket path');
    vi.stubEnv('COX_REDIS', 'tcp://localhost:6379');
    expect(configError(() => parse([])).message).toMatch(/^--redis \(or COX_REDIS\)/);
  });

  it('refuses --redis together with an explicit --db, from the flag or COX_REDIS', () => {
    vi.stubEnv('COX_REDIS', undefined);
    const both = '--redis and --db name two stores: give one (--redis also comes from COX_REDIS)';
    expect(configError(() => checkControllerOptions(parse(['--redis', 'redis://localhost:6379', '--db', 'jobs.db']))).message).toBe(both);
    expect(() => checkControllerOptions(parse(['--db', 'jobs.db']))).not.toThrow();
    vi.stubEnv('COX_REDIS', 'redis://localhost:6379');
    expect(configError(() => checkControllerOptions(parse(['--db', 'jobs.db']))).message).toBe(both);
  });

  it('reads durations in seconds or with a unit, and names the flag of a bad one', () => {
    expect(parse(['--ttl', '1.5', '--ack-timeout', '500ms', '--retention', '2h', '--poll-timeout', '1m'])).toMatchObject({ ttl: 1500, ackTimeout: 500, retention: 7_200_000, pollTimeout: 60_000 });
    expect(() => parseDuration('--ttl')('soon')).toThrow('--ttl: "soon" is not a duration');
    expect(() => parseDuration('--ttl')('0')).toThrow(/--ttl/);
  });

  it('refuses an open or half-configured controller', () => {
    const base = parse([]);
    expect(() => checkControllerOptions({ ...base, address: '0.0.0.0' })).toThrow(/not loopback: set --token/);
    expect(() => checkControllerOptions({ ...base, address: '0.0.0.0', token: 't' })).not.toThrow();
    expect(() => checkControllerOptions({ ...base, tlsCert: 'c' })).toThrow('--tls-cert and --tls-key go together');
    expect(() => checkControllerOptions({ ...base, tlsCa: 'ca' })).toThrow(/--tls-ca needs --tls-cert/);
    expect(() => checkControllerOptions({ ...base, tlsCert: 'c', tlsKey: 'k', requireClientCert: true })).toThrow(/--require-client-cert needs --tls-ca/);
  });
});
