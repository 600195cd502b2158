/**
 * What agents report besides results — log messages, stats batches — and the jumpscript texts
 * they fetch by hash, on the same SQLite file as the jobs. All of it has a retention TTL.
 */
import type Database from 'better-sqlite3';
import type { LogMessage, StatsBatch } from '../../protocol/job.js';
import type { NodeKey, NodeLog, StatsView } from './job-store.js';

type LogRow = Omit<NodeLog, 'id'> & { job_id: string };

export class SqliteTelemetry {
  readonly #t;

  protected constructor(protected readonly db: Database.Database) {
    const p = <P extends unknown[] = unknown[], R = unknown>(sql: string) => db.prepare<P, R>(sql);
    this.#t = {
      log: p('INSERT INTO logs (job_id, gid, nid, mid, level, message, epoch, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      logsOfJob: p<[string, number], LogRow>('SELECT * FROM logs WHERE job_id = ? ORDER BY rowid DESC LIMIT ?'),
      logsOfJobOnNode: p<[string, number, number, number], LogRow>('SELECT * FROM logs WHERE job_id = ? AND gid = ? AND nid = ? ORDER BY rowid DESC LIMIT ?'),
      logsOfNode: p<[number, number, number], LogRow>('SELECT * FROM logs WHERE gid = ? AND nid = ? ORDER BY rowid DESC LIMIT ?'),
      logsAll: p<[number], LogRow>('SELECT * FROM logs ORDER BY rowid DESC LIMIT ?'),
      stats: p('INSERT INTO stats (gid, nid, batch, received) VALUES (?, ?, ?, ?)'),
      // Keeps the newest `keep` rows of the node: everything at or below the keep-th newest goes.
      trimStats: p(
        'DELETE FROM stats WHERE gid = ? AND nid = ? AND rowid <= (SELECT rowid FROM stats WHERE gid = ? AND nid = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)',
      ),
      statsOf: p<[number, number], { batch: string }>('SELECT batch FROM stats WHERE gid = ? AND nid = ? ORDER BY rowid'),
      putScript: p('INSERT INTO scripts (hash, text, used) VALUES (?, ?, ?) ON CONFLICT (hash) DO UPDATE SET used = excluded.used'),
      script: p<[string], { text: string }>('SELECT text FROM scripts WHERE hash = ?'),
      pruneLogs: p('DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs WHERE received < ? LIMIT ?)'),
      pruneStats: p('DELETE FROM stats WHERE rowid IN (SELECT rowid FROM stats WHERE received < ? LIMIT ?)'),
      pruneScripts: p('DELETE FROM scripts WHERE hash IN (SELECT hash FROM scripts WHERE used < ? LIMIT ?)'),
    };
  }

  async appendLogs(node: NodeKey, messages: LogMessage[], now: number): Promise<void> {
    this.db.transaction(() => {
      for (const m of messages) this.#t.log.run(m.id, node.gid, node.nid, m.mid, m.level, m.message, m.epoch, now);
    })();
  }

  /** The newest `limit` messages matching, oldest first. */
  async logs(query: { id?: string; node?: NodeKey; limit: number }): Promise<NodeLog[]> {
    const { id, node, limit } = query;
    const rows =
      id !== undefined && node ? this.#t.logsOfJobOnNode.all(id, node.gid, node.nid, limit)
      : id !== undefined ? this.#t.logsOfJob.all(id, limit)
      : node ? this.#t.logsOfNode.all(node.gid, node.nid, limit)
      : this.#t.logsAll.all(limit);
    return rows.reverse().map((r) => ({ id: r.job_id, gid: r.gid, nid: r.nid, mid: r.mid, level: r.level, message: r.message, epoch: r.epoch }));
  }

  async putStats(node: NodeKey, batch: StatsBatch, now: number, keep: number): Promise<void> {
    this.db.transaction(() => {
      this.#t.stats.run(node.gid, node.nid, JSON.stringify(batch), now);
      this.#t.trimStats.run(node.gid, node.nid, node.gid, node.nid, keep);
    })();
  }

  async stats(node: NodeKey): Promise<StatsView> {
    const history = this.#t.statsOf.all(node.gid, node.nid).map((r) => JSON.parse(r.batch) as StatsBatch);
    return { latest: history.at(-1) ?? null, history };
  }

  async putScript(hash: string, text: string, now: number): Promise<void> {
    this.#t.putScript.run(hash, text, now);
  }

  async script(hash: string): Promise<string | null> {
    return this.#t.script.get(hash)?.text ?? null;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Runs inside the caller's transaction; at most `limit` rows of each kind. */
  protected pruneTelemetry(before: number, limit: number): number {
    return [this.#t.pruneLogs, this.#t.pruneStats, this.#t.pruneScripts].reduce((n, stmt) => n + stmt.run(before, limit).changes, 0);
  }
}
