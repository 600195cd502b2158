/**
 * `[logging.X] type = "AC"`: messages batched to controllers (`POST /{gid}/{nid}/log`), sent every
 * `flush_int` or as soon as `batch_size` are waiting, whichever comes first. Each controller has
 * its own outbox, so one that is down neither blocks nor duplicates the others; a batch it
 * refused is retried at the next flush, and an outbox past `OUTBOX_BATCHES` batches drops its
 * oldest messages (counted in a warning) rather than hold unbounded memory.
 */
import type { Logger } from 'pino';
import type { LogMessage } from '../../protocol/job.js';
import type { AcLoggerConfig } from '../config/types.js';
import type { Levels } from '../output/level-list.js';
import type { LogSink } from './log-router.js';

export type SendLogs = (controller: string, batch: LogMessage[]) => Promise<void>;

const OUTBOX_BATCHES = 10;

interface Outbox {
  messages: LogMessage[];
  sending: Promise<void> | null;
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
    this.outboxes = new Map(cfg.controllers.map((c) => [c, { messages: [], sending: null }]));
    this.timer = setInterval(() => void this.flush(), cfg.flushMs).unref();
  }

  write(msg: LogMessage): void {
    for (const [controller, box] of this.outboxes) {
      box.messages.push(msg);
      this.trim(controller, box);
      if (box.messages.length >= this.cfg.batchSize && !box.sending) void this.drain(controller, box);
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
    const excess = box.messages.length - OUTBOX_BATCHES * this.cfg.batchSize;
    if (excess <= 0) return;
    box.messages.splice(0, excess);
    this.logger.warn({ logger: this.cfg.name, controller, dropped: excess }, 'log outbox full: oldest messages dropped');
  }

  private drain(controller: string, box: Outbox): Promise<void> {
    box.sending ??= this.sendAll(controller, box).finally(() => {
      box.sending = null;
    });
    return box.sending;
  }

  private async sendAll(controller: string, box: Outbox): Promise<void> {
    while (box.messages.length > 0) {
      const batch = box.messages.splice(0, this.cfg.batchSize);
      try {
        await this.send(controller, batch);
      } catch (err) {
        box.messages.unshift(...batch);
        this.trim(controller, box);
        this.logger.warn({ logger: this.cfg.name, controller, err: (err as Error).message }, 'cannot send logs; retrying at the next flush');
        return;
      }
    }
  }
}
