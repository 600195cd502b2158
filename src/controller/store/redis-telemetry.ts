/**
 * What agents report besides results — log messages, stats batches — and the jumpscript texts
 * they fetch by hash, in the same Redis as the jobs. Nothing here is read and then written, so
 * each call is one atomic write with no checks.
 */
import type { LogMessage, StatsBatch } from '../../protocol/job.js';
import { nodeName, type NodeKey, type NodeLog, type StatsView } from './job-store.js';
import type { RedisAtomic } from './redis-atomic.js';
import type { RedisKeys } from './redis-keys.js';

interface LogEntry extends NodeLog {
  received: number;
}

interface StatsEntry {
  batch: StatsBatch;
  received: number;
}

export class RedisTelemetry {
  protected constructor(
    protected readonly atomic: RedisAtomic,
    protected readonly k: RedisKeys,
  ) {}

  async appendLogs(node: NodeKey, messages: LogMessage[], now: number): Promise<void> {
    if (messages.length === 0) return;
    const last = await this.atomic.read((c) => c.incrby(this.k.logSeq, messages.length));
    const name = nodeName(node);
    await this.atomic.run(async (change) => {
      messages.forEach((m, i) => {
        const n = last - messages.length + 1 + i;
        const entry: LogEntry = { id: m.id, gid: node.gid, nid: node.nid, mid: m.mid, level: m.level, message: m.message, epoch: m.epoch, received: now };
        change.op('HSET', this.k.logEntries, n, JSON.stringify(entry));
        for (const index of [this.k.logsAll, this.k.logsOfJob(m.id), this.k.logsOfNode(name), this.k.logsOfJobOnNode(m.id, name)]) change.op('ZADD', index, n, n);
        change.op('ZADD', this.k.logsReceived, now, n);
      });
    });
  }

  /** The newest `limit` messages matching, oldest first. */
  async logs(query: { id?: string; node?: NodeKey; limit: number }): Promise<NodeLog[]> {
    const { id, node, limit } = query;
    const index =
      id !== undefined && node ? this.k.logsOfJobOnNode(id, nodeName(node))
      : id !== undefined ? this.k.logsOfJob(id)
      : node ? this.k.logsOfNode(nodeName(node))
      : this.k.logsAll;
    const numbers = await this.atomic.read((c) => c.zrevrange(index, 0, limit - 1));
    if (numbers.length === 0) return [];
    const entries = await this.atomic.read((c) => c.hmget(this.k.logEntries, ...numbers.reverse()));
    return entries.flatMap((e) => {
      if (e === null) return [];
      const { received: _received, ...log } = JSON.parse(e) as LogEntry;
      return [log];
    });
  }

  async putStats(node: NodeKey, batch: StatsBatch, now: number, keep: number): Promise<void> {
    const entry: StatsEntry = { batch, received: now };
    await this.atomic.run(async (change) => {
      change.op('LPUSH', this.k.stats(nodeName(node)), JSON.stringify(entry));
      change.op('LTRIM', this.k.stats(nodeName(node)), 0, keep - 1);
      change.op('SADD', this.k.statsNodes, nodeName(node));
    });
  }

  async stats(node: NodeKey): Promise<StatsView> {
    const newestFirst = await this.atomic.read((c) => c.lrange(this.k.stats(nodeName(node)), 0, -1));
    const history = newestFirst.reverse().map((e) => (JSON.parse(e) as StatsEntry).batch);
    return { latest: history.at(-1) ?? null, history };
  }

  async putScript(hash: string, text: string, now: number): Promise<void> {
    await this.atomic.run(async (change) => {
      change.op('HSET', this.k.scripts, hash, text);
      change.op('ZADD', this.k.scriptsUsed, now, hash);
    });
  }

  async script(hash: string): Promise<string | null> {
    return this.atomic.read((c) => c.hget(this.k.scripts, hash));
  }

  /** At most `limit` entries of each kind received (or used) before `before`. */
  protected async pruneTelemetry(before: number, limit: number): Promise<number> {
    return this.atomic.run(async (change) => {
      const { client } = this.atomic;
      const old = `(${before}`;
      const logs = await client.zrangebyscore(this.k.logsReceived, '-inf', old, 'LIMIT', 0, limit);
      const entries = logs.length ? await client.hmget(this.k.logEntries, ...logs) : [];
      const scripts = await client.zrangebyscore(this.k.scriptsUsed, '-inf', old, 'LIMIT', 0, limit);
      const trims = await this.#oldStats(before, limit);
      logs.forEach((n, i) => {
        change.op('HDEL', this.k.logEntries, n);
        change.op('ZREM', this.k.logsReceived, n);
        change.op('ZREM', this.k.logsAll, n);
        if (entries[i] === null) return;
        const e = JSON.parse(entries[i]!) as LogEntry;
        const name = nodeName(e);
        for (const index of [this.k.logsOfJob(e.id), this.k.logsOfNode(name), this.k.logsOfJobOnNode(e.id, name)]) change.op('ZREM', index, n);
      });
      for (const hash of scripts) {
        change.op('HDEL', this.k.scripts, hash);
        change.op('ZREM', this.k.scriptsUsed, hash);
      }
      // Cut from the tail, so a batch pushed meanwhile at the head is neither dropped nor counted.
      for (const { node, dropped } of trims) change.op('LTRIM', this.k.stats(node), 0, -(dropped + 1));
      return logs.length + scripts.length + trims.reduce((n, t) => n + t.dropped, 0);
    });
  }

  /** Per node, how many of its oldest batches to drop. */
  async #oldStats(before: number, limit: number): Promise<{ node: string; dropped: number }[]> {
    const trims = [];
    let budget = limit;
    for (const node of await this.atomic.client.smembers(this.k.statsNodes)) {
      if (budget <= 0) break;
      const entries = (await this.atomic.client.lrange(this.k.stats(node), 0, -1)).map((e) => JSON.parse(e) as StatsEntry);
      const firstOld = entries.findIndex((e) => e.received < before);
      if (firstOld === -1) continue;
      const dropped = Math.min(entries.length - firstOld, budget);
      budget -= dropped;
      trims.push({ node, dropped });
    }
    return trims;
  }
}
