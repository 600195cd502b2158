/**
 * Atomic changes on a Redis shared by several controllers, by optimistic concurrency: a change
 * reads the documents it needs (each a hash of a version `v` and a JSON `doc`), decides in
 * TypeScript, and commits through one Lua script that first checks that nothing it read has
 * changed, then writes every document and index. When another controller got there first the
 * change is decided again from fresh reads. So all the logic stays in TypeScript, tested by the
 * same conformance suite as the SQLite store, and Redis runs one small generic script. Documents
 * this controller wrote itself are taken from its cache (redis-doc-cache.ts), not read again.
 *
 * Each commit also publishes its StoreEvents, so polls and waiting clients on every controller
 * are woken by changes any of them made.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { StoreEvent } from './job-store.js';
import { Change, Raced } from './redis-change.js';
import { storeError } from './redis-connection.js';
import { DocCache } from './redis-doc-cache.js';

const APPLY = `
local checks = cjson.decode(ARGV[1])
for _, c in ipairs(checks) do
  if c[1] == 'ver' then
    if tonumber(redis.call('HGET', c[2], 'v') or '0') ~= c[3] then return 0 end
  elseif c[1] == 'absent' then
    if redis.call('EXISTS', c[2]) == 1 then return 0 end
  elseif c[1] == 'below' then
    local s = redis.call('ZSCORE', c[2], c[3])
    if not s or tonumber(s) >= c[4] then return 0 end
  end
end
for _, op in ipairs(cjson.decode(ARGV[2])) do
  -- A number stands for a later argument: documents travel as they are, not escaped inside ops.
  for i, a in ipairs(op) do
    if type(a) == 'number' then op[i] = ARGV[a] end
  end
  redis.call(unpack(op))
end
return 1
`;

/** Beyond this many lost races in a row something is wrong; the caller gets an error, not a spin. */
const MAX_ATTEMPTS = 100;

export class RedisAtomic {
  /** Tells this controller's own events from other controllers' on the shared channel. */
  readonly #origin = randomUUID();
  readonly #listeners = new Set<(e: StoreEvent) => void>();
  readonly #channel: string;
  readonly #cache = new DocCache();

  /** `url` names the Redis in errors (masked). */
  constructor(
    readonly client: Redis,
    private readonly subscriber: Redis,
    readonly prefix: string,
    private readonly url: string,
  ) {
    this.#channel = `${prefix}events`;
    client.defineCommand('coxApply', { numberOfKeys: 0, lua: APPLY });
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      const { origin, events } = JSON.parse(message) as { origin: string; events: StoreEvent[] };
      if (origin !== this.#origin) this.#emit(events);
    });
  }

  /**
   * Subscribes to other controllers' events; resolves once Redis confirmed it. Events published
   * while the connection was down are lost: once it is back and subscribed again, every waiter
   * is told to look again.
   */
  async listen(): Promise<void> {
    await this.subscriber.subscribe(this.#channel);
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.#channel).then(
        () => this.#emit([{ kind: 'resync' }]),
        () => {},
      );
    });
  }

  /**
   * Decides with `decide` and commits what it wrote, again from fresh reads as long as another
   * controller changed what it read. What `decide` throws ends the change with nothing written.
   */
  async run<T>(decide: (change: Change) => Promise<T>): Promise<T> {
    try {
      return await this.#run(decide);
    } catch (err) {
      throw storeError(err, this.url);
    }
  }

  /** Reads with `fn`; an unreachable Redis fails it as STORE_UNAVAILABLE. */
  async read<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client);
    } catch (err) {
      throw storeError(err, this.url);
    }
  }

  async #run<T>(decide: (change: Change) => Promise<T>): Promise<T> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // Controllers that keep racing for the same documents are spread apart by a random wait.
      if (attempt >= 2) await sleep(Math.random() * attempt);
      const change = new Change(this.client, attempt === 0 ? this.#cache : null);
      let value: T;
      try {
        value = await decide(change);
      } catch (err) {
        if (err instanceof Raced) continue;
        throw err;
      }
      // Nothing to write and nothing taken on trust: what was read is the answer.
      if (!change.writes && !change.usedCache) return value;
      const args = change.script(this.#channel, this.#origin);
      const applied = await (this.client as unknown as { coxApply(...args: string[]): Promise<number> }).coxApply(...args);
      if (applied === 1) {
        for (const [key, stored] of change.settled()) this.#cache.set(key, stored);
        this.#emit(change.events);
        return value;
      }
      for (const key of change.readKeys()) this.#cache.forget(key);
    }
    throw new Error(`redis store: gave up after ${MAX_ATTEMPTS} attempts, every one raced by another controller`);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(events: StoreEvent[]): void {
    for (const e of events) for (const l of this.#listeners) l(e);
  }
}
