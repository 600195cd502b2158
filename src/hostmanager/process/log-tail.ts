/** The last lines of a child's log file, read on demand instead of held in memory per child. */
import { open } from 'node:fs/promises';

const CHUNK = 64 * 1024;

export async function readTail(file: string, lines: number, maxBytes = 4 * 1024 * 1024): Promise<string[]> {
  if (lines <= 0) return [];
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const { size } = await handle.stat();
    let start = size;
    let text = '';
    // Read backwards until enough newlines are in hand (one extra: the first line may be partial).
    while (start > 0 && size - start < maxBytes && countNewlines(text) <= lines) {
      const length = Math.min(CHUNK, start);
      start -= length;
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, start);
      text = buf.toString('utf8') + text;
    }
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    if (start > 0) all.shift();
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}
