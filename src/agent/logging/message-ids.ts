/**
 * Log message ids: a 32-bit counter that survives restarts (REFERENCE 2.4 `message_id_file`).
 * The original rewrote the file for every message. Here ids are reserved in blocks: the file
 * holds the end of the current block, written atomically before any id of the block is used, so
 * a restart (even after SIGKILL) continues past every id handed out, at the cost of a gap.
 *
 * The agent writes the counter once at start (`begin`), so a file it cannot write refuses the
 * start. A reservation that fails later (the disk filled up, the directory was made read-only or
 * deleted) must not stop the job whose line needed an id: numbering goes on in memory, the
 * failure is reported once per streak, and the next block tries the file again.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../shared/atomic-write.js';
import { Errors } from '../../shared/errors.js';

const SPACE = 2 ** 32;

/** Pure allocation; `reserve(end)` must persist `end` before returning, or throw. */
export class MessageIds {
  private remaining = 0;
  /** The last reservation failed (and was reported). */
  private failing = false;

  /** @param report told of the first failed reservation of a streak (an error) and of the recovery (null). */
  constructor(
    private nextId: number,
    private readonly reserve: (end: number) => void,
    private readonly blockSize = 1000,
    private readonly report: (err: Error | null) => void = () => {},
  ) {}

  /** Reserves the first block now; throws what the reservation threw. */
  begin(): void {
    if (this.remaining === 0) this.reserveBlock();
  }

  /** The next id; never throws. */
  next(): number {
    if (this.remaining === 0) {
      try {
        this.reserveBlock();
        if (this.failing) this.report(null);
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.report(err as Error);
        this.failing = true;
        // Even unpersisted, the block is used: the next one is tried at its end, and covers it.
        this.remaining = this.blockSize;
      }
    }
    const id = this.nextId;
    this.nextId = (this.nextId + 1) % SPACE;
    this.remaining--;
    return id;
  }

  /** Persists the end of the next block, then hands out its ids. */
  private reserveBlock(): void {
    this.reserve((this.nextId + this.blockSize) % SPACE);
    this.remaining = this.blockSize;
  }
}

/**
 * Ids continuing from `file` (0 when it does not exist yet). The file is written by `begin` or
 * on first use; a directory that vanished is created again. Failures name the file.
 */
export function openMessageIds(file: string, blockSize = 1000, logger?: Logger): MessageIds {
  let start = 0;
  try {
    const text = readFileSync(file, 'utf8').trim();
    start = Number(text);
    // A counter we cannot read must not silently restart at 0 and repeat ids.
    if (!/^\d+$/.test(text) || start >= SPACE) throw Errors.CONFIG_INVALID(`${file}: not a message id counter: ${JSON.stringify(text.slice(0, 40))}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const write = (end: number) => writeFileAtomic(file, `${end}\n`);
  const reserve = (end: number) => {
    try {
      try {
        write(end);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        mkdirSync(path.dirname(file), { recursive: true });
        write(end);
      }
    } catch (err) {
      throw Errors.CONFIG_INVALID(`${file}: cannot write the message id counter (message_id_file): ${(err as Error).message}`);
    }
  };
  const report = (err: Error | null) => {
    if (err) logger?.error({ file, err: err.message }, 'cannot write the message id counter; numbering goes on in memory, ids may repeat after a restart');
    else logger?.info({ file }, 'the message id counter is written again');
  };
  return new MessageIds(start, reserve, blockSize, report);
}
