/** `cox controller` options. Durations are seconds (`0.5`) or carry a unit: `500ms`, `30s`, `5m`, `2h`, `7d`. */
import { Command, Option } from 'commander';
import { Errors } from '../shared/errors.js';
import { LOG_LEVELS } from '../shared/log-levels.js';
import { maskRedisUrl, parseRedisUrl as parseUrl } from './store/redis-url.js';

export interface ControllerDaemonOptions {
  address: string;
  port: number;
  /** Unset unless given, so that a --db next to --redis is refused rather than ignored. */
  db?: string;
  redis?: string;
  redisPrefix: string;
  scriptDir: string;
  /** All durations in ms. */
  pollTimeout: number;
  ttl: number;
  ackTimeout: number;
  retention: number;
  token?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  requireClientCert: boolean;
  logLevel: string;
}

export const DEFAULT_CONTROLLER_PORT = 8966;
export const DEFAULT_CONTROLLER_DB = '.state/controller.db';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(flag: string) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
    const ms = m ? Number(m[1]) * UNITS[m[2] ?? 's']! : NaN;
    if (!Number.isFinite(ms) || ms <= 0) throw Errors.CONFIG_INVALID(`${flag}: "${value}" is not a duration (e.g. 30, 0.5, 500ms, 5m, 7d)`);
    return ms;
  };
}

function duration(flag: string, description: string, ms: number, shown: string): Option {
  return new Option(`${flag} <duration>`, description).argParser(parseDuration(flag)).default(ms, shown);
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw Errors.CONFIG_INVALID(`--port: "${value}" is not a port number`);
  return n;
}

function parseRedisUrl(value: string): string {
  const target = parseUrl(value);
  if ('error' in target) throw Errors.CONFIG_INVALID(`--redis (or COX_REDIS): "${maskRedisUrl(value)}": ${target.error}`);
  return value;
}

export function withControllerOptions(cmd: Command): Command {
  return cmd
    .option('--address <ip>', 'address to listen on (off loopback needs --token)', '127.0.0.1')
    .option('--port <port>', 'HTTP(S) port for agents and clients', parsePort, DEFAULT_CONTROLLER_PORT)
    .option('--db <file>', `SQLite file holding jobs, queues, sessions, logs (default: "${DEFAULT_CONTROLLER_DB}")`)
    .addOption(new Option('--redis <url>', 'keep them in Redis instead, shared by several controllers: redis://[user:pass@]host:port[/db], rediss://…, unix:///path/redis.sock[?db=N&password=P]').env('COX_REDIS').argParser(parseRedisUrl))
    .option('--redis-prefix <prefix>', 'prefix of every Redis key: fleets sharing one Redis each take their own', 'cox:')
    .option('--script-dir <dir>', 'jumpscripts: <dir>/<organization>/<name>.<py|sh|js|mjs>', 'jumpscripts')
    .addOption(duration('--poll-timeout', 'longest an agent poll is held before 204', 60_000, '60s'))
    .addOption(duration('--ttl', 'a node not seen for this long is dropped; its running jobs end ERROR', 30_000, '30s'))
    .addOption(duration('--ack-timeout', 'an offer not acknowledged in this time is offered again, once', 10_000, '10s'))
    .addOption(duration('--retention', 'finished jobs, logs and stats are kept this long', 7 * 86_400_000, '7d'))
    .addOption(new Option('--token <token>', 'bearer token for clients (and agents without a certificate)').env('COX_TOKEN'))
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--tls-ca <file>', "CA of agents' client certificates (PEM); a certificate's CN must be <gid>_<nid>")
    .option('--require-client-cert', 'refuse connections without a client certificate signed by --tls-ca', false)
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'));
}

/** Combinations that would leave the controller open or half-configured are refused at start. */
export function checkControllerOptions(o: ControllerDaemonOptions): void {
  const loopback = o.address === 'localhost' || o.address === '::1' || o.address.startsWith('127.');
  if (!loopback && !o.token) throw Errors.CONFIG_INVALID(`--address ${o.address} is not loopback: set --token (or COX_TOKEN) so the controller is not open to the network`);
  checkControllerCombinations(o);
}

/** The checks that do not depend on the environment the daemon will get (its token may come from there). */
export function checkControllerCombinations(o: ControllerDaemonOptions): void {
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw Errors.CONFIG_INVALID('--tls-cert and --tls-key go together');
  if (o.tlsCa && !o.tlsCert) throw Errors.CONFIG_INVALID('--tls-ca needs --tls-cert and --tls-key (client certificates need HTTPS)');
  if (o.redis && o.db) throw Errors.CONFIG_INVALID('--redis and --db name two stores: give one (--redis also comes from COX_REDIS)');
  if (o.requireClientCert && !o.tlsCa) throw Errors.CONFIG_INVALID('--require-client-cert needs --tls-ca to verify the certificates');
}
