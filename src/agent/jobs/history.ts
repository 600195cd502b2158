/**
 * `history_file`: what the agent must remember across restarts, as an append-only journal of
 * JSON lines —
 *   {"seen":"<id>"}                     a job id this agent accepted: never run again
 *   {"run":<job>,"origin":"<ctrl>"}     a long-running job (max_time -1): rerun at start
 *   {"done":"<id>"}                     that job finished or was killed: not rerun
 * One small append per event instead of a rewritten file per job. The journal is compacted into a
 * snapshot (written atomically) at open and whenever it grows well past what it describes, so
 * unlike the original's it never grows without bound; the seen ids are bounded too (oldest out).
 * Appends survive the agent being killed (the OS has them); a torn last line is skipped on load.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { job as jobSchema, type Job } from '../../protocol/job.js';
import { writeFileAtomic } from '../../shared/atomic-write.js';

export interface PersistedJob {
  job: Job;
  /** Controller key the job came from, or null (startup task, or a controller since removed). */
  origin: string | null;
}

export class History {
  private readonly seen = new Set<string>();
  private readonly live = new Map<string, PersistedJob>();
  private fd: number;
  private appended = 0;
  /** Lines of the file that could not be read at open (reported once by the caller). */
  readonly skipped: number;

  constructor(
    private readonly file: string,
    private readonly seenLimit = 10_000,
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.skipped = this.load();
    this.fd = this.compact();
  }

  hasSeen(id: string): boolean {
    return this.seen.has(id);
  }

  markSeen(id: string): void {
    this.remember(id);
    this.append({ seen: id });
  }

  addLongRunning(job: Job, origin: string | null): void {
    this.live.set(job.id, { job, origin });
    this.append({ run: job, origin });
  }

  remove(id: string): void {
    if (this.live.delete(id)) this.append({ done: id });
  }

  longRunning(): PersistedJob[] {
    return [...this.live.values()];
  }

  close(): void {
    closeSync(this.fd);
  }

  private remember(id: string): void {
    this.seen.delete(id);
    this.seen.add(id);
    if (this.seen.size > this.seenLimit) this.seen.delete(this.seen.values().next().value!);
  }

  private append(entry: object): void {
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    if (++this.appended > 2 * (this.seenLimit + this.live.size) + 1000) {
      closeSync(this.fd);
      this.fd = this.compact();
    }
  }

  /** Writes the snapshot and returns a descriptor appending to it. */
  private compact(): number {
    const lines = [...[...this.seen].map((seen) => ({ seen })), ...[...this.live.values()].map((p) => ({ run: p.job, origin: p.origin }))];
    writeFileAtomic(this.file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    this.appended = 0;
    return openSync(this.file, 'a');
  }

  private load(): number {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const entry = JSON.parse(line) as { seen?: unknown; run?: unknown; origin?: unknown; done?: unknown };
        if (typeof entry.seen === 'string') this.remember(entry.seen);
        else if (typeof entry.done === 'string') this.live.delete(entry.done);
        else if (entry.run !== undefined) {
          const job = jobSchema.parse(entry.run);
          this.live.set(job.id, { job, origin: typeof entry.origin === 'string' ? entry.origin : null });
        } else skipped++;
      } catch {
        skipped++;
      }
    }
    return skipped;
  }
}
