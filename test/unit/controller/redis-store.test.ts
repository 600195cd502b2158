import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { RedisJobStore } from '../../../src/controller/store/redis-store.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { processConformance } from './process-conformance.js';
import { storeConformance, type StoreFixture } from './store-conformance.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

/** Each test gets its own prefix in the one server: the prefix is what keeps fleets apart. */
async function redisStore(): Promise<StoreFixture> {
  const prefix = `test-${randomUUID()}:`;
  let store = await RedisJobStore.open(redis.url, { prefix });
  return {
    store,
    reopen: async () => {
      await store.close();
      return (store = await RedisJobStore.open(redis.url, { prefix }));
    },
    cleanup: async () => {},
  };
}

storeConformance('Redis', redisStore);
processConformance('Redis', redisStore);
