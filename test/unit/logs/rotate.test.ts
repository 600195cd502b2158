import { existsSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rotateFile, rotatedName } from '../../../src/hostmanager/logs/rotate.js';

const logFile = () => join(mkdtempSync(join(tmpdir(), 'rotate-')), 'a.log');

describe('rotateFile (copy then truncate)', () => {
  it('keeps the newest `keep` copies, newest in .1, and drops the oldest', async () => {
    const file = logFile();
    for (let i = 1; i <= 7; i++) {
      writeFileSync(file, `generation ${i}\n`, { flag: 'a' });
      expect(await rotateFile(file, 5)).toBe(`generation ${i}\n`.length);
    }
    expect(readFileSync(file, 'utf8')).toBe('');
    expect([1, 2, 3, 4, 5].map((n) => readFileSync(rotatedName(file, n), 'utf8'))).toEqual([7, 6, 5, 4, 3].map((g) => `generation ${g}\n`));
    expect(existsSync(rotatedName(file, 6))).toBe(false);
  });

  it('lets a writer holding the file open with O_APPEND go on at the start of the emptied file', async () => {
    const file = logFile();
    const fd = openSync(file, 'a');
    try {
      writeSync(fd, 'before\n'.repeat(1000));
      await rotateFile(file, 1);
      writeSync(fd, 'after\n');
    } finally {
      closeSync(fd);
    }
    // Not sparse: the write after the truncate landed at offset 0, not at the old end.
    expect(readFileSync(file, 'utf8')).toBe('after\n');
    expect(statSync(rotatedName(file, 1)).size).toBe(7000);
  });

  it('only truncates when no copies are kept', async () => {
    const file = logFile();
    writeFileSync(file, 'x\n');
    expect(await rotateFile(file, 0)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(existsSync(rotatedName(file, 1))).toBe(false);
  });

  it('does nothing for a file that does not exist', async () => {
    expect(await rotateFile(logFile(), 5)).toBeNull();
  });
});
