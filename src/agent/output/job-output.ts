/**
 * What a run's output contributes to its result (REFERENCE 2.2/2.3): the last message at a result
 * level (20–23) becomes `data`/`level`, level-9 messages are gathered into `critical`, and the raw
 * stdout/stderr tails become `streams`. Everything is bounded, whatever the process prints.
 */
import { Level, RESULT_LEVELS } from '../../protocol/job.js';
import type { OutputMessage } from './level-parser.js';

/** The last `max` characters of a stream. */
export class Tail {
  private text = '';

  constructor(private readonly max: number) {}

  push(chunk: string): void {
    this.text += chunk;
    // Trim only past twice the bound, so a stream of small chunks is not copied on every write.
    if (this.text.length > 2 * this.max) this.text = this.text.slice(-this.max);
  }

  toString(): string {
    return this.text.length > this.max ? this.text.slice(-this.max) : this.text;
  }
}

export interface OutputFacts {
  data: string;
  level: number;
  critical: string;
  streams: [string, string];
}

const CRITICAL_CHARS = 64 * 1024;

export class JobOutput {
  private readonly tails: [Tail, Tail];
  private readonly critical: Tail;
  private result: OutputMessage | null = null;

  constructor(tailChars = 32 * 1024) {
    this.tails = [new Tail(tailChars), new Tail(tailChars)];
    this.critical = new Tail(CRITICAL_CHARS);
  }

  raw(stream: 0 | 1, chunk: string): void {
    this.tails[stream].push(chunk);
  }

  message(msg: OutputMessage): void {
    if (RESULT_LEVELS.has(msg.level)) this.result = msg;
    else if (msg.level === Level.CRITICAL) this.critical.push(this.critical.toString() === '' ? msg.text : `\n${msg.text}`);
  }

  /** Without a result message, `data` is the stdout tail at level 0 (no result level). */
  facts(): OutputFacts {
    const streams: [string, string] = [this.tails[0].toString(), this.tails[1].toString()];
    return {
      data: this.result ? this.result.text : streams[0],
      level: this.result ? this.result.level : 0,
      critical: this.critical.toString(),
      streams,
    };
  }
}
