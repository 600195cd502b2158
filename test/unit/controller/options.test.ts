import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { checkControllerOptions, parseDuration, withControllerOptions, type ControllerDaemonOptions } from '../../../src/controller/options.js';

const parse = (argv: string[]) => withControllerOptions(new Command('controller')).exitOverride().parse(argv, { from: 'user' }).opts<ControllerDaemonOptions>();

describe('controller options', () => {
  it('defaults as documented: loopback, port 8966, 60 s poll, 30 s TTL, 10 s ack, 7 days retention', () => {
    expect(parse([])).toMatchObject({ address: '127.0.0.1', port: 8966, db: '.state/controller.db', pollTimeout: 60_000, ttl: 30_000, ackTimeout: 10_000, retention: 7 * 86_400_000, requireClientCert: false });
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
