import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTail } from '../../../src/hostmanager/process/log-tail.js';

const file = (text: string) => {
  const f = join(mkdtempSync(join(tmpdir(), 'tail-')), 'x.log');
  writeFileSync(f, text);
  return f;
};

describe('readTail', () => {
  it('returns the last n lines, without a trailing empty line', async () => {
    expect(await readTail(file('a\nb\nc\n'), 2)).toEqual(['b', 'c']);
    expect(await readTail(file('a\nb\nc'), 5)).toEqual(['a', 'b', 'c']);
  });
  it('reads across chunk boundaries of a large file', async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i}`);
    expect(await readTail(file(lines.join('\n') + '\n'), 3)).toEqual(['line 49997', 'line 49998', 'line 49999']);
  });
  it('is empty for a missing file', async () => expect(await readTail('/nonexistent/x.log', 3)).toEqual([]));
});
