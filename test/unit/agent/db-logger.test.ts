import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DbLogger } from '../../../src/agent/logging/db-logger.js';
import { dbLoggerConfig, tempDir } from '../../helpers/agent-harness.js';

const msg = (id: string, mid: number, level = 1) => ({ id, mid, level, message: `message ${mid}`, epoch: 1000 + mid });

describe('DbLogger', () => {
  it('answers the newest matching messages, oldest first, by job and levels', () => {
    const db = new DbLogger(dbLoggerConfig(tempDir()));
    for (let i = 0; i < 10; i++) db.write(msg(i % 2 ? 'odd' : 'even', i, i < 5 ? 1 : 3));
    expect(db.query({ id: 'odd', levels: 'all', limit: 100 }).map((m) => m.mid)).toEqual([1, 3, 5, 7, 9]);
    expect(db.query({ id: 'odd', levels: new Set([3]), limit: 2 }).map((m) => m.mid)).toEqual([7, 9]);
    expect(db.query({ levels: 'all', limit: 3 })).toEqual([msg('odd', 7, 3), msg('even', 8, 3), msg('odd', 9, 3)]);
    db.close();
  });

  it('rotates by age, keeps at most max_files, and queries across files', () => {
    const dir = tempDir();
    let now = 1_000_000;
    const db = new DbLogger(dbLoggerConfig(dir, { maxFileAgeMs: 1000, maxFiles: 2 }), () => now);
    for (let i = 0; i < 4; i++) {
      db.write(msg('job', i));
      db.flush();
      now += 1000;
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.db'))).toHaveLength(2);
    expect(db.query({ id: 'job', levels: 'all', limit: 10 }).map((m) => m.mid)).toEqual([2, 3]);
    db.close();
  });

  it('rotates by size, and continues the newest file after a restart', () => {
    const dir = tempDir();
    const db = new DbLogger(dbLoggerConfig(dir, { maxFileBytes: 16 * 1024 }));
    for (let i = 0; i < 300; i++) {
      db.write({ ...msg('big', i), message: 'x'.repeat(200) });
      if (i % 50 === 49) db.flush();
    }
    db.close();
    const files = readdirSync(dir).filter((f) => f.endsWith('.db'));
    expect(files.length).toBeGreaterThan(1);
    const again = new DbLogger(dbLoggerConfig(dir));
    expect(readdirSync(dir).filter((f) => f.endsWith('.db'))).toEqual(files);
    expect(again.query({ id: 'big', levels: 'all', limit: 1 }).map((m) => m.mid)).toEqual([299]);
    again.close();
  });
});
