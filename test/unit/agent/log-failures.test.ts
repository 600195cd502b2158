/** Message ids and the DB logger when the disk under them changes: never a throw at the job or a timer. */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DbLogger } from '../../../src/agent/logging/db-logger.js';
import { MessageIds, openMessageIds } from '../../../src/agent/logging/message-ids.js';
import { dbLoggerConfig, tempDir } from '../../helpers/agent-harness.js';

function collecting() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { logger, lines };
}

describe('MessageIds when the counter cannot be written', () => {
  it('keeps numbering in memory and reports once per streak', () => {
    const reports: (string | null)[] = [];
    let fail = true;
    const ids = new MessageIds(0, () => {
      if (fail) throw new Error('EACCES');
    }, 2, (err) => reports.push(err?.message ?? null));
    expect([ids.next(), ids.next(), ids.next(), ids.next(), ids.next()]).toEqual([0, 1, 2, 3, 4]);
    expect(reports).toEqual(['EACCES']);
    fail = false;
    expect([ids.next(), ids.next()]).toEqual([5, 6]);
    expect(reports).toEqual(['EACCES', null]);
  });

  it('begin() refuses a counter it cannot write, naming the file', () => {
    const dir = tempDir('cox-mid-');
    const file = join(dir, '.mid');
    // Unwritable even for root: the temporary file writeFileAtomic writes is a directory.
    mkdirSync(`${file}.${process.pid}.tmp`);
    const ids = openMessageIds(file);
    expect(() => ids.begin()).toThrow(`${file}: cannot write the message id counter`);
  });

  it('re-creates a deleted directory, and goes on through one it cannot write into', () => {
    const dir = join(tempDir('cox-mid-'), 'ids');
    const file = join(dir, '.mid');
    const { logger, lines } = collecting();
    const ids = openMessageIds(file, 10, logger);
    ids.begin();
    rmSync(dir, { recursive: true });
    const used = Array.from({ length: 15 }, () => ids.next());
    expect(readFileSync(file, 'utf8')).toBe('20\n');
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a directory');
    used.push(...Array.from({ length: 30 }, () => ids.next()));
    expect(used).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect(lines.filter((l) => l.level === 50).map((l) => l.file)).toEqual([file]);
  });
});

const msg = (mid: number) => ({ id: 'job', mid, level: 1, message: `message ${mid}`, epoch: 1000 + mid });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DbLogger when log_dir changes under it', () => {
  it('re-creates a deleted log_dir with a fresh file, from its timer, even when a rotation is due', async () => {
    const dir = join(tempDir(), 'logs');
    let now = 1_000_000;
    const db = new DbLogger(dbLoggerConfig(dir, { maxFileAgeMs: 1000 }), () => now, pino({ level: 'silent' }));
    db.write(msg(0));
    await sleep(200);
    rmSync(dir, { recursive: true });
    now += 2000;
    db.write(msg(1));
    await sleep(200);
    expect(readdirSync(dir).filter((f) => f.endsWith('.db'))).toHaveLength(1);
    expect(db.query({ id: 'job', levels: 'all', limit: 10 }).map((m) => m.mid)).toEqual([1]);
    rmSync(dir, { recursive: true });
    expect(db.query({ id: 'job', levels: 'all', limit: 10 })).toEqual([]);
    db.close();
  });

  it('drops what it cannot write, reports once per streak, and writes again when it can', async () => {
    const dir = join(tempDir(), 'logs');
    const { logger, lines } = collecting();
    const db = new DbLogger(dbLoggerConfig(dir), Date.now, logger);
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a directory');
    for (let i = 0; i < 3; i++) {
      db.write(msg(i));
      await sleep(150);
    }
    expect(() => db.flush()).not.toThrow();
    rmSync(dir);
    db.write(msg(3));
    await sleep(150);
    expect(existsSync(dir)).toBe(true);
    expect(db.query({ id: 'job', levels: 'all', limit: 10 }).map((m) => m.mid)).toEqual([3]);
    expect(lines.filter((l) => (l.level as number) >= 40 && l.msg !== 'the log file was deleted; writing to a new one').map((l) => [l.level, l.dropped ?? null])).toEqual([
      [50, null],
      [40, 3],
    ]);
    db.close();
  });
});
