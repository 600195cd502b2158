/**
 * `<state_dir>/processes.journal`: the named processes this agent owes a controller an answer
 * about, as an append-only journal of JSON lines —
 *   {"run":{id,name,origin,pid,start}}               started; `start` is its start time in clock
 *                                                    ticks, so a restarted agent knows its pid
 *   {"exit":{id,name,origin,exit_code,reason,ended}} finished: kept until the controller has it
 *   {"acked":[id,...]}                               the controller stored these: forget them
 * Each record is one write(2) of one line, so an agent killed at any moment leaves whole records
 * (the OS has them; a torn last line after a power loss is skipped, and the controller then
 * declares that process lost). At open, and when the appends outgrow what they describe, the
 * journal is rewritten as a snapshot by an atomic rename, so it never grows without bound.
 * An agent that never runs a named process never creates the file.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { processExit } from '../../protocol/process.js';
import { writeFileAtomic } from '../../shared/atomic-write.js';

const running = z.object({ id: z.string(), name: z.string(), origin: z.string(), pid: z.number().int(), start: z.string().nullable() });
const exited = processExit.extend({ origin: z.string() });
const entry = z.union([z.object({ run: running }), z.object({ exit: exited }), z.object({ acked: z.array(z.string()) })]);

export type RunningRecord = z.output<typeof running>;
/** A finished process; `origin` is the key of the controller it is reported to. */
export type ExitRecord = z.output<typeof exited>;

export class ProcessJournal {
  readonly #running = new Map<string, RunningRecord>();
  readonly #exited = new Map<string, ExitRecord>();
  #fd: number | null = null;
  #appended = 0;
  /** Lines of the file that could not be read at open (reported once by the caller). */
  readonly skipped: number;

  constructor(private readonly file: string) {
    const existed = this.#load();
    this.skipped = existed ?? 0;
    if (existed !== null) this.#fd = this.#compact();
  }

  running(): RunningRecord[] {
    return [...this.#running.values()];
  }

  /** Finished and not acknowledged, oldest first; only those for `origin` if given. */
  unreported(origin?: string): ExitRecord[] {
    const all = [...this.#exited.values()];
    return origin === undefined ? all : all.filter((e) => e.origin === origin);
  }

  /** Ids of every process running or awaiting acknowledgement. */
  known(): string[] {
    return [...this.#running.keys(), ...this.#exited.keys()];
  }

  started(record: RunningRecord): void {
    this.#running.set(record.id, record);
    this.#append({ run: record });
  }

  exited(record: ExitRecord): void {
    this.#running.delete(record.id);
    this.#exited.set(record.id, record);
    this.#append({ exit: record });
  }

  acked(ids: readonly string[]): void {
    const gone = ids.filter((id) => this.#exited.delete(id));
    if (gone.length > 0) this.#append({ acked: gone });
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  #append(record: object): void {
    this.#fd ??= this.#compact();
    writeSync(this.#fd, `${JSON.stringify(record)}\n`);
    if (++this.#appended > 2 * (this.#running.size + this.#exited.size) + 1000) {
      closeSync(this.#fd);
      this.#fd = this.#compact();
    }
  }

  /** Writes the snapshot and returns a descriptor appending to it. */
  #compact(): number {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const lines = [...[...this.#running.values()].map((run) => ({ run })), ...[...this.#exited.values()].map((exit) => ({ exit }))];
    writeFileAtomic(this.file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    this.#appended = 0;
    return openSync(this.file, 'a');
  }

  /** Answers how many lines were unreadable, or null when there is no file. */
  #load(): number | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let parsed;
      try {
        parsed = entry.safeParse(JSON.parse(line));
      } catch {
        parsed = null;
      }
      if (!parsed?.success) skipped++;
      else if ('run' in parsed.data) this.#running.set(parsed.data.run.id, parsed.data.run);
      else if ('exit' in parsed.data) {
        this.#running.delete(parsed.data.exit.id);
        this.#exited.set(parsed.data.exit.id, parsed.data.exit);
      } else for (const id of parsed.data.acked) this.#exited.delete(id);
    }
    return skipped;
  }
}
