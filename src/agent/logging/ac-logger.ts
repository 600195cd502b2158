/**
 * `[logging.X] type = "AC"`: messages batched to controllers (`POST /{gid}/{nid}/log`), sent every
 * `flush_int` or as soon as `batch_size` are waiting, whichever comes first. A batch also ends
 * before it passes `MAX_BATCH_BYTES` of JSON, well under what a controller takes in one request or
 * stream frame (16 MiB), so a few long lines never make a batch no controller accepts. Each
 * controller has its own outbox, so one that is down neither blocks nor duplicates the others. A
 * batch that did not get through (no answer, or a 5xx) is retried at the next flush; one the
 * controller refused (a 4xx: too large, malformed) is dropped with a warning, as is one answered
 * 5xx `SERVER_ERROR_ATTEMPTS` times in a row, since sending it again would only block every later
 * message behind it. An outbox past `OUTBOX_BATCHES` batches (by count or by size) drops its oldest
 * messages (counted in a warning) rather than hold unbounded memory.
 */
import type { Logger } from 'pino';
import { answeredStatus } from '../transport/controller-client.js';
import type { LogMessage } from '../../protocol/job.js';
import type { AcLoggerConfig } from '../config/types.js';
import type { Levels } from '../output/level-list.js';
import type { LogSink } from './log-router.js';

export type SendLogs = (controller: string, batch: LogMessage[]) => Promise<void>;

const OUTBOX_BATCHES = 10;
/** JSON bytes per batch: a quarter of the controller's 16 MiB body and stream frame limits. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
const SERVER_ERROR_ATTEMPTS = 3;

interface Outbox {
  messages: LogMessage[];
  /** JSON size of each message, in step with `messages`. */
  sizes: number[];
  bytes: number;
  sending: Promise<void> | null;
  /** Flushes in a row whose first batch was answered 5xx. */
  serverErrors: number;
}

/** The message's share of a batch's JSON body, in UTF-8 bytes (the comma included). */
function jsonBytes(msg: LogMessage): number {
  return Buffer.byteLength(JSON.stringify(msg)) + 1;
}

export class AcLogger implements LogSink {
  readonly kind = 'AC';
  readonly levels: Levels;
  private readonly outboxes: Map<string, Outbox>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cfg: AcLoggerConfig,
    private readonly send: SendLogs,
    private readonly logger: Logger,
  ) {
    this.levels = cfg.levels;
    this.outboxes = new Map(cfg.controllers.map((c) => [c, { messages: [], sizes: [], bytes: 0, sending: null, serverErrors: 0 }]));
    this.timer = setInterval(() => void this.flush(), cfg.flushMs).unref();
  }

  write(msg: LogMessage): void {
    if (this.outboxes.size === 0) return;
    const size = jsonBytes(msg);
    for (const [controller, box] of this.outboxes) {
      box.messages.push(msg);
      box.sizes.push(size);
      box.bytes += size;
      this.trim(controller, box);
      if ((box.messages.length >= this.cfg.batchSize || box.bytes >= MAX_BATCH_BYTES) && !box.sending) void this.drain(controller, box);
    }
  }

  /** Sends everything waiting; resolves when every outbox is empty or its controller failed. */
  async flush(): Promise<void> {
    await Promise.all([...this.outboxes].map(([controller, box]) => this.drain(controller, box)));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private trim(controller: string, box: Outbox): void {
    let excess = Math.max(0, box.messages.length - OUTBOX_BATCHES * this.cfg.batchSize);
    let bytes = box.bytes - box.sizes.slice(0, excess).reduce((a, b) => a + b, 0);
    while (bytes > OUTBOX_BATCHES * MAX_BATCH_BYTES && excess < box.messages.length - 1) bytes -= box.sizes[excess++]!;
    if (excess <= 0) return;
    this.take(box, excess);
    this.logger.warn({ logger: this.cfg.name, controller, dropped: excess }, 'log outbox full: oldest messages dropped');
  }

  /** Removes the first `count` messages of the outbox. */
  private take(box: Outbox, count: number): LogMessage[] {
    const sizes = box.sizes.splice(0, count);
    box.bytes -= sizes.reduce((a, b) => a + b, 0);
    return box.messages.splice(0, count);
  }

  /** How many messages from the head make the next batch: at most `batch_size` and `MAX_BATCH_BYTES`, never none. */
  private nextBatchLength(box: Outbox): number {
    const max = Math.min(this.cfg.batchSize, box.messages.length);
    let n = 0;
    let bytes = 2;
    while (n < max && (n === 0 || bytes + box.sizes[n]! <= MAX_BATCH_BYTES)) bytes += box.sizes[n++]!;
    return n;
  }

  private drain(controller: string, box: Outbox): Promise<void> {
    box.sending ??= this.sendAll(controller, box).finally(() => {
      box.sending = null;
    });
    return box.sending;
  }

  private async sendAll(controller: string, box: Outbox): Promise<void> {
    while (box.messages.length > 0) {
      // The batch stays in the outbox while it is sent, so that messages written meanwhile queue
      // behind it and a batch to retry keeps its place at the head.
      const count = this.nextBatchLength(box);
      const batch = box.messages.slice(0, count);
      try {
        await this.send(controller, batch);
      } catch (err) {
        const status = answeredStatus(err);
        const facts = { logger: this.cfg.name, controller, messages: batch.length, err: (err as Error).message };
        // No answer (down, connection lost), or a 5xx not yet seen too often: try again later.
        if (status === null || (status >= 500 && ++box.serverErrors < SERVER_ERROR_ATTEMPTS)) {
          this.logger.warn(facts, 'cannot send logs; retrying at the next flush');
          return;
        }
        this.logger.warn({ ...facts, status }, status < 500 ? 'the controller refused the logs: batch dropped' : 'the controller failed the logs repeatedly: batch dropped');
      }
      box.serverErrors = 0;
      this.dropSent(box, batch);
    }
  }

  /** Removes `batch` from the head of the outbox, less whatever `trim` already dropped meanwhile. */
  private dropSent(box: Outbox, batch: LogMessage[]): void {
    const last = batch.at(-1)!;
    const end = box.messages.indexOf(last);
    if (end >= 0) this.take(box, end + 1);
  }
}
