/**
 * `history_file`: what the agent must remember across restarts, as an append-only journal of
 * JSON lines —
 *   {"taken":"<id>","cmd":"<cmd>","origin":"<ctrl>"}  a job this agent accepted, its result not yet
 *                                                      taken by a controller
 *   {"seen":"<id>"}                     a job this agent ran and reported: never run again
 *   {"run":<job>,"origin":"<ctrl>"}     a long-running job (max_time -1): rerun at start
 *   {"done":"<id>"}                     that job finished or was killed: not rerun
 * A job taken and never settled when the agent starts was running, or its result was still on its
 * way, when the previous agent died: nobody else will ever say how it ended (`lost()`).
 * One small append per event instead of a rewritten file per job. The journal is compacted into a
 * snapshot (written atomically) at open and whenever it grows well past what it describes, so
 * unlike the original's it never grows without bound; the seen ids are bounded too (oldest out).
 * Appends survive the agent being killed (the OS has them); a torn last line is skipped on load.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { job as jobSchema, type Job } from '../../protocol/job.js';
import { writeFileAtomic } from '../../shared/atomic-write.js';

export interface PersistedJob {
  job: Job;
  /** Controller key the job came from, or null (startup task, or a controller since removed). */
  origin: string | null;
}

/** A job accepted and not yet settled: enough to report how it ended. */
export interface TakenJob {
  id: string;
  cmd: string;
  origin: string | null;
}

export class History {
  /** Ran and reported: bounded, oldest out. */
  private readonly seen = new Set<string>();
  /** Accepted and not yet reported: as many as the agent holds jobs, so not bounded. */
  private readonly taken = new Map<string, TakenJob>();
  private readonly live = new Map<string, PersistedJob>();
  /** Taken by the agent that ran before this one, and never settled. */
  private readonly orphans: TakenJob[];
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
    // A long-running job is rerun under its id, so it is not lost; its end settles it.
    this.orphans = [...this.taken.values()].filter((t) => !this.live.has(t.id));
    this.fd = this.compact();
  }

  hasSeen(id: string): boolean {
    return this.seen.has(id) || this.taken.has(id);
  }

  /** Ran and reported already: an offer of this id now is a new job reusing it. */
  hasSettled(id: string): boolean {
    return this.seen.has(id) && !this.taken.has(id);
  }

  markTaken(job: TakenJob): void {
    this.taken.set(job.id, job);
    this.append({ taken: job.id, cmd: job.cmd, origin: job.origin });
  }

  /** A controller took the job's final result: nothing is owed for it any more. */
  markSettled(id: string): void {
    if (!this.taken.delete(id)) return;
    this.remember(id);
    this.append({ seen: id });
  }

  /** Jobs the previous agent took and never reported: they ended with it, unheard. */
  lost(): TakenJob[] {
    return this.orphans;
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
    // Deleted under a running agent, the file would take appends nobody can read back: written
    // afresh instead, so the next start still knows what this one took.
    if (fstatSync(this.fd).nlink === 0) {
      closeSync(this.fd);
      this.fd = this.compact();
    }
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    if (++this.appended > 2 * (this.seenLimit + this.taken.size + this.live.size) + 1000) {
      closeSync(this.fd);
      this.fd = this.compact();
    }
  }

  /** Writes the snapshot and returns a descriptor appending to it. */
  private compact(): number {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const lines = [
      ...[...this.seen].map((seen) => ({ seen })),
      ...[...this.taken.values()].map((t) => ({ taken: t.id, cmd: t.cmd, origin: t.origin })),
      ...[...this.live.values()].map((p) => ({ run: p.job, origin: p.origin })),
    ];
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
        const entry = JSON.parse(line) as { seen?: unknown; taken?: unknown; cmd?: unknown; run?: unknown; origin?: unknown; done?: unknown };
        const origin = typeof entry.origin === 'string' ? entry.origin : null;
        if (typeof entry.seen === 'string') {
          this.taken.delete(entry.seen);
          this.remember(entry.seen);
        } else if (typeof entry.taken === 'string') this.taken.set(entry.taken, { id: entry.taken, cmd: typeof entry.cmd === 'string' ? entry.cmd : '', origin });
        else if (typeof entry.done === 'string') this.live.delete(entry.done);
        else if (entry.run !== undefined) {
          const job = jobSchema.parse(entry.run);
          this.live.set(job.id, { job, origin });
        } else skipped++;
      } catch {
        skipped++;
      }
    }
    return skipped;
  }
}
