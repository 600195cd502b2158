/** Connections to the Redis a controller's store lives in (URL forms: redis-url.ts). */
import { Redis, type RedisOptions } from 'ioredis';
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
  // event alone would only print to stderr. A failed start is reported by connect() below.
  client.on('error', () => {});
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
    throw new Error(`Redis at ${maskRedisUrl(url)}: cannot connect: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  return client;
}
