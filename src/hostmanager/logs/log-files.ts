/**
 * The children's log files as the host manager sees them: rotated when they grow past a size,
 * checked on a slow timer (one stat per child per tick; the host manager never touches a line the
 * children write), and followed by operators.
 *
 * Rotation and followers share this object because a follower must tell our own rotation from a
 * file that merely shrank: after a rotation it finishes reading the bytes it had not seen yet
 * from `<id>.log.1`, so nothing is skipped or shown twice. Both run under one lock per file, so a
 * follower never reads a file half-way through its rotation.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { rotateFile } from './rotate.js';

export interface LogFilesOptions {
  /** Rotate a file once it has reached this many bytes. */
  maxBytes: number;
  /** How many rotated copies to keep (`<file>.1` … `<file>.<keep>`). */
  keep: number;
  logger?: Logger;
}

/** What a follower needs to know about the last rotation of a file. */
export interface Rotation {
  /** Rotations of this file so far; a follower compares it with the count it saw last. */
  count: number;
  /** Bytes of the rotated content now in `<file>.1` (0 when `keep` is 0). */
  copied: number;
}

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_KEEP = 5;
const CHECK_EVERY_MS = 10_000;

export class LogFiles {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly rotations = new Map<string, Rotation>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: LogFilesOptions = { maxBytes: DEFAULT_LOG_MAX_BYTES, keep: DEFAULT_LOG_KEEP }) {}

  /** Runs `fn` once every earlier piece of work on `file` has settled, and before any later one. */
  exclusive<T>(file: string, fn: () => Promise<T>): Promise<T> {
    // Each entry is a chain that never rejects, so one failure does not block the file for good.
    const run = (this.locks.get(file) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    this.locks.set(file, tail);
    // Forget idle files so the map holds only files with work in flight.
    void tail.then(() => {
      if (this.locks.get(file) === tail) this.locks.delete(file);
    });
    return run;
  }

  rotationOf(file: string): Rotation | undefined {
    return this.rotations.get(file);
  }

  /** Rotates every file of `files` that has reached the size limit; returns those rotated. */
  async check(files: readonly string[]): Promise<string[]> {
    const rotated: string[] = [];
    for (const file of files) {
      if (!(await this.isFull(file))) continue;
      await this.exclusive(file, async () => {
        if (!(await this.isFull(file))) return;
        const copied = await rotateFile(file, this.opts.keep);
        if (copied === null) return;
        const count = (this.rotations.get(file)?.count ?? 0) + 1;
        this.rotations.set(file, { count, copied });
        rotated.push(file);
        this.opts.logger?.info({ file, bytes: copied, keep: this.opts.keep }, 'log file rotated');
      });
    }
    return rotated;
  }

  /**
   * Checks `files()` every `everyMs` for the life of the process; a tick is skipped while the
   * previous one still runs.
   */
  startChecking(files: () => readonly string[], everyMs = CHECK_EVERY_MS): void {
    if (this.timer) return;
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.check(files())
        .catch((err: unknown) => this.opts.logger?.error({ err }, 'log rotation failed'))
        .finally(() => (busy = false));
    }, everyMs);
    // Rotation never needs to keep the process alive, so shutdown has nothing to stop.
    this.timer.unref();
  }

  private async isFull(file: string): Promise<boolean> {
    try {
      return (await stat(file)).size >= this.opts.maxBytes;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}
