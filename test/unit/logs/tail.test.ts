import { mkdtempSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTailAt } from '../../../src/hostmanager/logs/tail.js';

async function tailOf(text: string, lines: number, end = Buffer.byteLength(text), maxBytes?: number) {
  const file = join(mkdtempSync(join(tmpdir(), 'tail-')), 'x.log');
  writeFileSync(file, text);
  const handle = await open(file, 'r');
  try {
    return await readTailAt(handle, end, lines, maxBytes);
  } finally {
    await handle.close();
  }
}

describe('readTailAt', () => {
  it('returns the last complete lines and, apart, a line still being written', async () => {
    expect(await tailOf('a\nb\nc\n', 2)).toEqual({ lines: ['b', 'c'], partial: '', end: 6 });
    expect(await tailOf('a\nb\nc', 5)).toEqual({ lines: ['a', 'b'], partial: 'c', end: 4 });
    expect(await tailOf('no newline yet', 3)).toEqual({ lines: [], partial: 'no newline yet', end: 0 });
  });

  it('reads only up to the offset it is given, so bytes written after the stat are not in it', async () => {
    expect(await tailOf('a\nb\nc\nd\n', 2, 4)).toEqual({ lines: ['a', 'b'], partial: '', end: 4 });
  });

  it('reads backwards across chunk boundaries of a large file', async () => {
    const text = Array.from({ length: 50_000 }, (_, i) => `line ${i}\n`).join('');
    const tail = await tailOf(text, 3);
    expect(tail.lines).toEqual(['line 49997', 'line 49998', 'line 49999']);
    expect(tail.end).toBe(Buffer.byteLength(text));
  });

  it('gives no lines for 0 but still the offset to follow from', async () => {
    expect(await tailOf('a\nb\n', 0)).toEqual({ lines: [], partial: '', end: 4 });
  });

  it('keeps multi-byte characters whole', async () => {
    expect((await tailOf('température 21°C\nété\n', 2)).lines).toEqual(['température 21°C', 'été']);
  });

  it('bounds the read on a file without newlines', async () => {
    const tail = await tailOf('x'.repeat(200_000), 5, 200_000, 100_000);
    expect(tail.lines).toEqual([]);
    expect(tail.partial.length).toBeLessThanOrEqual(100_000 + 64 * 1024);
  });
});
