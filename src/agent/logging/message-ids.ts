/**
 * Log message ids: a 32-bit counter that survives restarts (REFERENCE 2.4 `message_id_file`).
 * The original rewrote the file for every message. Here ids are reserved in blocks: the file
 * holds the end of the current block, written atomically before any id of the block is used, so
 * a restart (even after SIGKILL) continues past every id handed out, at the cost of a gap.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../shared/atomic-write.js';
import { Errors } from '../../shared/errors.js';

const SPACE = 2 ** 32;

/** Pure allocation; `reserve(end)` must persist `end` before returning. */
export class MessageIds {
  private remaining = 0;

  constructor(
    private nextId: number,
    private readonly reserve: (end: number) => void,
    private readonly blockSize = 1000,
  ) {}

  next(): number {
    if (this.remaining === 0) {
      this.reserve((this.nextId + this.blockSize) % SPACE);
      this.remaining = this.blockSize;
    }
    const id = this.nextId;
    this.nextId = (this.nextId + 1) % SPACE;
    this.remaining--;
    return id;
  }
}

/** Ids continuing from `file` (0 when it does not exist yet). The file is written on first use. */
export function openMessageIds(file: string, blockSize = 1000): MessageIds {
  let start = 0;
  try {
    const text = readFileSync(file, 'utf8').trim();
    start = Number(text);
    // A counter we cannot read must not silently restart at 0 and repeat ids.
    if (!/^\d+$/.test(text) || start >= SPACE) throw Errors.CONFIG_INVALID(`${file}: not a message id counter: ${JSON.stringify(text.slice(0, 40))}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return new MessageIds(start, (end) => writeFileAtomic(file, `${end}\n`), blockSize);
}
