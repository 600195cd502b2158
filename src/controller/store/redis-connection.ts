/** Connections to the Redis a controller's store lives in (URL forms: redis-url.ts). */
import { Redis, type RedisOptions } from 'ioredis';
import { Errors, isCoxError } from '../../shared/errors.js';
import { maskRedisUrl, parseRedisUrl, type RedisTarget } from './redis-url.js';

/** How long a controller waits for Redis at start before giving up with an error. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Longest wait between reconnection attempts while Redis is gone. */
const MAX_RECONNECT_DELAY_MS = 500;

function optionsOf(target: RedisTarget): RedisOptions {
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Calls made in one turn of the event loop go out as one write, as the SQLite store commits
    // them together.
    enableAutoPipelining: true,
    // While Redis is down a call fails after three reconnection attempts, at most ~1.5 s however
    // long the outage has lasted, as a 503 the agent or client retries. The client's own backoff
    // grows to 2 s an attempt, which made calls and health checks hang 10–25 s into an outage.
    retryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
    maxRetriesPerRequest: 3,
  };
  if (target.kind === 'tcp') return options;
  return { ...options, path: target.path, ...(target.username ? { username: target.username } : {}), ...(target.password ? { password: target.password } : {}) };
}

/** A connected client; rejects (and stops retrying) when Redis cannot be reached in time. */
export async function connectRedis(url: string): Promise<Redis> {
  const target = parseRedisUrl(url);
  if ('error' in target) throw new Error(`${maskRedisUrl(url)}: ${target.error}`);
  const options = optionsOf(target);
  const client = target.kind === 'tcp' ? new Redis(target.url, { ...options, db: 0 }) : new Redis(options);
  // A lost connection shows as failed calls, which the controller logs with their request; the
  // event alone would only print to stderr. At start it says why connect() failed: connect()
  // itself only says the connection closed (a refused TLS certificate, a wrong password).
  let why: Error | null = null;
  client.on('error', (err: Error) => (why = err));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      // The client would select the database itself, and on a refusal go on in database 0: the
      // store of another fleet, perhaps. Selected here, a refusal stops the start instead.
      client.connect().then(() => (target.db > 0 ? client.select(target.db) : undefined)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    client.disconnect();
    const reason = err instanceof Error && err.name === 'ReplyError' ? `database ${target.db}: ${err.message}` : ((why as Error | null) ?? (err as Error)).message;
    throw new Error(`Redis at ${maskRedisUrl(url)}: cannot connect: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** Replies that mean "not now" rather than a fault: a Redis still loading, a replica, a busy script. */
const NOT_NOW = /^(LOADING|READONLY|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * What a failed call tells the caller: STORE_UNAVAILABLE when Redis could not be reached or
 * cannot serve right now (the call may be made again), else the error itself.
 */
export function storeError(err: unknown, url: string): unknown {
  if (isCoxError(err) || !(err instanceof Error)) return err;
  const { code } = err as { code?: unknown };
  const unreachable =
    err.name === 'MaxRetriesPerRequestError' || err.message === 'Connection is closed.' || (typeof code === 'string' && /^E[A-Z]+$/.test(code));
  if (unreachable || (err.name === 'ReplyError' && NOT_NOW.test(err.message))) {
    const why = err.name === 'MaxRetriesPerRequestError' ? 'no connection' : err.message;
    return Errors.STORE_UNAVAILABLE(`Redis at ${maskRedisUrl(url)}: ${why}`);
  }
  return err;
}
