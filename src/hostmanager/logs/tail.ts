/**
 * The last lines of a log file up to a given offset, read backwards on demand instead of held in
 * memory per child. The caller passes an open handle and the offset it stat'ed, so a follower
 * knows exactly where the tail ended and can stream on from there without a gap or a repeat.
 */
import type { FileHandle } from 'node:fs/promises';

const CHUNK = 64 * 1024;

export interface Tail {
  /** Up to `lines` complete (newline-terminated) lines, without their newlines. */
  lines: string[];
  /** Text after the last newline before `end`: a line still being written, or ''. */
  partial: string;
  /** Offset just past the last newline before `end`; `partial` starts here. */
  end: number;
}

/** Reads at most `maxBytes` backwards from `end`, so a file without newlines costs a bounded read. */
export async function readTailAt(handle: FileHandle, end: number, lines: number, maxBytes = 4 * 1024 * 1024): Promise<Tail> {
  let start = end;
  let buf = Buffer.alloc(0);
  // One newline more than asked for: the first line in hand may be cut by the chunk boundary.
  while (start > 0 && end - start < maxBytes && countNewlines(buf) <= lines) {
    const length = Math.min(CHUNK, start);
    start -= length;
    const chunk = Buffer.alloc(length);
    const { bytesRead } = await handle.read(chunk, 0, length, start);
    buf = Buffer.concat([chunk.subarray(0, bytesRead), buf]);
  }
  const lastNewline = buf.lastIndexOf(0x0a);
  const complete = lastNewline === -1 ? [] : buf.subarray(0, lastNewline).toString('utf8').split('\n');
  // A line cut by where the backward read stopped is not a whole line.
  if (start > 0 && complete.length > 0) complete.shift();
  return {
    lines: lines > 0 ? complete.slice(-lines) : [],
    partial: buf.subarray(lastNewline + 1).toString('utf8'),
    end: start + lastNewline + 1,
  };
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}
