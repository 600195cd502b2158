/**
 * `[logging.X] type = "DB"`: messages in SQLite files under `log_dir`, queried by `get_msgs`.
 * A file is closed and a new one started when it passes `max_file_size` or `max_file_age`; the
 * oldest files beyond `max_files` are deleted, so the logs never fill the disk. Writes are
 * buffered briefly and committed in one transaction, because a transaction per message would
 * cap a chatty job at a few thousand lines a second.
 *
 * The logger never throws at the job whose line it writes, nor from its timer: a batch it cannot
 * write (disk full, permissions) is dropped and reported, once per streak of failures. A `log_dir`
 * (or current file) deleted under it is created again, with a fresh file, at the next write.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { LogMessage } from '../../protocol/job.js';
import type { DbLoggerConfig } from '../config/types.js';
import type { Levels } from '../output/level-list.js';
import type { LogSink } from './log-router.js';

const FILE = /^log-(\d+)\.db$/;
const FLUSH_AT = 500;
const FLUSH_AFTER_MS = 100;

export interface MessageQuery {
  id?: string;
  levels: Levels;
  limit: number;
}

export class DbLogger implements LogSink {
  readonly kind = 'DB';
  readonly levels: Levels;
  private db: Database.Database;
  private insert: Database.Statement;
  private openedAt: number;
  private buffer: LogMessage[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Messages dropped since writing last failed; null while writes succeed. */
  private lost: number | null = null;

  /** @param logger where failures to write are reported (not at all without one). */
  constructor(
    private readonly cfg: DbLoggerConfig,
    private readonly now: () => number = Date.now,
    private readonly logger?: Logger,
  ) {
    this.levels = cfg.levels;
    mkdirSync(cfg.logDir, { recursive: true });
    const newest = this.files().at(-1);
    const reuse = newest && this.now() - newest.created < cfg.maxFileAgeMs && statSync(newest.file).size < cfg.maxFileBytes;
    ({ db: this.db, insert: this.insert, openedAt: this.openedAt } = this.open(reuse ? newest : null));
  }

  write(msg: LogMessage): void {
    this.buffer.push(msg);
    if (this.buffer.length >= FLUSH_AT) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS).unref();
  }

  /** Commits what is buffered; never throws: a batch that cannot be written is dropped and reported. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      this.reopenIfGone();
      this.rotateIfDue();
      this.db.transaction(() => {
        for (const m of batch) this.insert.run(m.id, m.mid, m.level, m.epoch, m.message);
      })();
    } catch (err) {
      if (this.lost === null) this.logger?.error({ logger: this.cfg.name, dir: this.cfg.logDir, err: (err as Error).message }, 'cannot write log messages; dropping them until writing works again');
      this.lost = (this.lost ?? 0) + batch.length;
      return;
    }
    if (this.lost !== null) this.logger?.warn({ logger: this.cfg.name, dir: this.cfg.logDir, dropped: this.lost }, 'log messages are written again');
    this.lost = null;
  }

  /** Newest `limit` messages matching the query, oldest first, across every file kept. */
  query(q: MessageQuery): LogMessage[] {
    this.flush();
    this.reopenIfGone();
    const found: LogMessage[] = [];
    for (const { file } of this.files().reverse()) {
      if (found.length >= q.limit) break;
      const current = file === this.db.name;
      const db = current ? this.db : new Database(file, { readonly: true, fileMustExist: true });
      try {
        const where = [q.id !== undefined ? 'job = @id' : '1', q.levels === 'all' ? '1' : `level IN (${[...q.levels].join(',') || 'NULL'})`];
        const rows = db
          .prepare(`SELECT job AS id, mid, level, epoch, message FROM log WHERE ${where.join(' AND ')} ORDER BY rowid DESC LIMIT @limit`)
          .all({ ...(q.id !== undefined ? { id: q.id } : {}), limit: q.limit - found.length }) as LogMessage[];
        found.push(...rows);
      } finally {
        if (!current) db.close();
      }
    }
    return found.reverse();
  }

  close(): void {
    this.flush();
    this.db.close();
  }

  /** `log_dir` or the current file was deleted: a fresh file in a re-created directory. */
  private reopenIfGone(): void {
    if (existsSync(this.db.name)) return;
    mkdirSync(this.cfg.logDir, { recursive: true });
    this.switchTo(this.open(null));
    this.logger?.warn({ logger: this.cfg.name, file: this.db.name }, 'the log file was deleted; writing to a new one');
  }

  private switchTo(next: ReturnType<DbLogger['open']>): void {
    this.db.close();
    ({ db: this.db, insert: this.insert, openedAt: this.openedAt } = next);
  }

  private open(existing: { file: string; created: number } | null) {
    let created = this.now();
    let file = existing?.file;
    if (!file) {
      const taken = new Set(this.files().map((f) => f.created));
      while (taken.has(created)) created++;
      file = path.join(this.cfg.logDir, `log-${created}.db`);
    }
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE IF NOT EXISTS log (job TEXT NOT NULL, mid INTEGER NOT NULL, level INTEGER NOT NULL, epoch INTEGER NOT NULL, message TEXT NOT NULL)');
    db.exec('CREATE INDEX IF NOT EXISTS log_job ON log (job)');
    const insert = db.prepare('INSERT INTO log (job, mid, level, epoch, message) VALUES (?, ?, ?, ?, ?)');
    return { db, insert, openedAt: existing?.created ?? created };
  }

  private rotateIfDue(): void {
    const size = (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number);
    if (size < this.cfg.maxFileBytes && this.now() - this.openedAt < this.cfg.maxFileAgeMs) return;
    // The new file first: one that cannot be opened leaves the current one in use.
    this.switchTo(this.open(null));
    const files = this.files();
    for (const old of files.slice(0, Math.max(0, files.length - this.cfg.maxFiles))) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(old.file + suffix, { force: true });
    }
  }

  /** Log files, oldest first. */
  private files(): { file: string; created: number }[] {
    return readdirSync(this.cfg.logDir)
      .map((name) => FILE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ file: path.join(this.cfg.logDir, m[0]), created: Number(m[1]) }))
      .sort((a, b) => a.created - b.created);
  }
}
