/**
 * The store `cox controller` was told to use: a SQLite file (one controller, nothing to install)
 * or a Redis that several controllers share.
 */
import type { JobStore } from './job-store.js';
import { maskRedisUrl } from './redis-url.js';
import { SqliteJobStore } from './sqlite-store.js';

/**
 * The Redis store bounds its own connect; this bounds the whole open (whatever it does once
 * connected), so a controller started against a Redis that never answers exits instead of hanging.
 */
const REDIS_OPEN_DEADLINE_MS = 15_000;

export type StoreChoice = { db: string } | { redis: string; prefix: string };

export interface OpenedStore {
  store: JobStore;
  /** Where the jobs live, for the log: the file, or the URL with its password masked. */
  where: { db: string } | { redis: string; redis_prefix: string };
}

export async function openStore(choice: StoreChoice): Promise<OpenedStore> {
  if ('db' in choice) return { store: SqliteJobStore.open(choice.db), where: { db: choice.db } };
  // Loaded here, so that a controller on SQLite does not load ioredis.
  const { RedisJobStore } = await import('./redis-store.js');
  const where = { redis: maskRedisUrl(choice.redis), redis_prefix: choice.prefix };
  const opening = RedisJobStore.open(choice.redis, { prefix: choice.prefix });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis at ${where.redis}: not open within ${REDIS_OPEN_DEADLINE_MS / 1000} s`)), REDIS_OPEN_DEADLINE_MS);
  });
  try {
    return { store: await Promise.race([opening, deadline]), where };
  } catch (err) {
    // One that opens after all would hold its connections open with no one to close them.
    opening.then((late) => late.close()).catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
