/**
 * `tail -F` for one child's log file: the last N lines, then every byte appended after them, for
 * as long as the reader stays. The file is re-opened by path on every poll, so the follower keeps
 * going when the child restarts (the new process appends to the same file), when we rotate it
 * (see LogFiles: the unseen rest is read from `<file>.1`, then the file from 0), when someone else
 * truncates or replaces it (size shrank, or another file: from 0), and when it does not exist yet.
 *
 * Polling, not inotify: one open+fstat per follower per poll is cheap, works the same for a file
 * that is missing, replaced or on a network filesystem, and followers are few (operators).
 */
import type { Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { LogFiles } from './log-files.js';
import { rotatedName } from './rotate.js';
import { readTailAt } from './tail.js';

export interface FollowOptions {
  logs: LogFiles;
  /** The file to follow, looked up on every poll: a reloaded SCF may move the log dir. */
  file: () => string | null;
  /** Receives the text. Polls are skipped while it needs draining, so a slow reader costs no memory. */
  out: Writable;
  pollMs?: number;
}

const POLL_MS = 250;
const CHUNK = 64 * 1024;
/** Per poll, so one busy child cannot keep a follower reading forever. */
const MAX_BYTES_PER_POLL = 1024 * 1024;

export class LogFollower {
  private path: string | null = null;
  private pos = 0;
  /** Inode and birth time: an inode number alone is reused at once by a file created after an rm. */
  private identity: string | null = null;
  private rotations = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly opts: FollowOptions) {}

  /** Writes the last `lines` complete lines, then follows until stop(). */
  async start(lines: number): Promise<void> {
    const file = this.opts.file();
    if (file !== null) {
      this.adopt(file);
      await this.opts.logs.exclusive(file, async () => {
        const handle = await openIfPresent(file);
        if (!handle) return;
        try {
          const st = await handle.stat();
          const tail = await readTailAt(handle, st.size, lines);
          if (tail.lines.length > 0) this.write(`${tail.lines.join('\n')}\n`);
          // A line still being written is streamed by the first poll, whole once it is finished.
          this.pos = tail.end;
          this.identity = identityOf(st);
        } finally {
          await handle.close();
        }
      });
    }
    this.schedule();
  }

  /** Idempotent; a poll in flight finishes its write and schedules nothing more. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poll().then(
        () => this.schedule(),
        (err: unknown) => {
          this.stop();
          this.opts.out.destroy(err as Error);
        },
      );
    }, this.opts.pollMs ?? POLL_MS);
  }

  private async poll(): Promise<void> {
    const file = this.opts.file();
    if (file === null || this.opts.out.writableNeedDrain) return;
    if (file !== this.path) this.adopt(file);
    await this.opts.logs.exclusive(file, async () => {
      await this.finishRotated(file);
      const handle = await openIfPresent(file);
      if (!handle) return;
      try {
        const st = await handle.stat();
        if (identityOf(st) !== this.identity || st.size < this.pos) {
          this.pos = 0;
          this.identity = identityOf(st);
        }
        this.pos += await this.copy(handle, this.pos, Math.min(st.size, this.pos + MAX_BYTES_PER_POLL));
      } finally {
        await handle.close();
      }
    });
  }

  /** After our own rotation: the bytes not yet streamed are in `<file>.1`; then start over at 0. */
  private async finishRotated(file: string): Promise<void> {
    const rotation = this.opts.logs.rotationOf(file);
    if (rotation === undefined || rotation.count === this.rotations) return;
    this.rotations = rotation.count;
    if (this.pos < rotation.copied) {
      const handle = await openIfPresent(rotatedName(file, 1));
      if (handle) {
        try {
          await this.copy(handle, this.pos, rotation.copied);
        } finally {
          await handle.close();
        }
      }
    }
    this.pos = 0;
  }

  /** Starts over on a file we have not read yet; its past rotations are none of our business. */
  private adopt(file: string): void {
    this.path = file;
    this.pos = 0;
    this.identity = null;
    this.rotations = this.opts.logs.rotationOf(file)?.count ?? 0;
  }

  private async copy(handle: FileHandle, from: number, to: number): Promise<number> {
    let pos = from;
    while (pos < to) {
      const buf = Buffer.alloc(Math.min(CHUNK, to - pos));
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      this.write(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return pos - from;
  }

  /** The reader may have gone (and the stream ended) while a poll was reading. */
  private write(chunk: string | Buffer): void {
    if (!this.stopped && this.opts.out.writable) this.opts.out.write(chunk);
  }
}

function identityOf(st: Stats): string {
  return `${st.ino}:${st.birthtimeMs}`;
}

async function openIfPresent(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
