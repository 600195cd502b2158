/** Connections to the Redis a controller's store lives in (URL forms: redis-url.ts). */
import { Redis, type RedisOptions } from 'ioredis';
import { Errors, isCoxError } from '../../shared/errors.js';
import { isRedisUrl, maskRedisUrl } from './redis-url.js';

/** How long a controller waits for Redis at start before giving up with an error. */
const CONNECT_TIMEOUT_MS = 10_000;

function optionsOf(url: string): { url?: string; options: RedisOptions } {
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Calls made in one turn of the event loop go out as one write, as the SQLite store commits
    // them together.
    enableAutoPipelining: true,
    // While Redis is down a call fails after about 0.75 s of reconnecting (the client's backoff
    // is 50, 100, 150… ms), as a 503 the agent or client retries, instead of hanging ~20 s.
    maxRetriesPerRequest: 5,
  };
  if (!url.startsWith('unix://')) return { url, options };
  const parsed = new URL(url);
  const db = parsed.searchParams.get('db');
  return { options: { ...options, path: decodeURIComponent(parsed.pathname), ...(db ? { db: Number(db) } : {}) } };
}

/** A connected client; rejects (and stops retrying) when Redis cannot be reached in time. */
export async function connectRedis(url: string): Promise<Redis> {
  if (!isRedisUrl(url)) throw new Error(`${maskRedisUrl(url)}: not a Redis URL (redis://, rediss:// or unix://)`);
  const { url: target, options } = optionsOf(url);
  const client = target ? new Redis(target, options) : new Redis(options);
  // A lost connection shows as failed calls, which the controller logs with their request; the
  // event alone would only print to stderr. At start it says why connect() failed: connect()
  // itself only says the connection closed (a refused TLS certificate, a wrong password).
  let why: Error | null = null;
  client.on('error', (err: Error) => (why = err));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    client.disconnect();
    throw new Error(`Redis at ${maskRedisUrl(url)}: cannot connect: ${((why as Error | null) ?? (err as Error)).message}`);
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
