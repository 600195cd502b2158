/**
 * Hands each message of a job to the loggers that want it. A logger's `levels` (from its config
 * section) is its default; a job overrides it for the DB logger with `loglevels_db` and for the AC
 * logger with `loglevels_ac` (the original wrongly used `loglevels_db` for both). The job's
 * `loglevels` gates every logger: a level it leaves out is logged nowhere.
 */
import type { Logger } from 'pino';
import type { JobArgs, LogMessage } from '../../protocol/job.js';
import { allows, parseLevelList, type Levels } from '../output/level-list.js';
import type { MessageIds } from './message-ids.js';

export interface LogSink {
  readonly kind: 'DB' | 'AC' | 'console';
  /** Default levels, from the logger's section. */
  readonly levels: Levels;
  write(msg: LogMessage): void;
}

export interface JobLogLevels {
  gate: Levels;
  db: Levels | null;
  ac: Levels | null;
}

/** The job's level lists; throws BAD_REQUEST naming the argument that is not a level list. */
export function jobLogLevels(args: Pick<JobArgs, 'loglevels' | 'loglevels_db' | 'loglevels_ac'>): JobLogLevels {
  return {
    gate: parseLevelList(args.loglevels, 'args.loglevels') ?? 'all',
    db: parseLevelList(args.loglevels_db, 'args.loglevels_db'),
    ac: parseLevelList(args.loglevels_ac, 'args.loglevels_ac'),
  };
}

export class LogRouter {
  constructor(
    private readonly sinks: readonly LogSink[],
    private readonly ids: MessageIds,
  ) {}

  log(jobId: string, levels: JobLogLevels, level: number, text: string, epoch = Date.now()): void {
    if (!allows(levels.gate, level)) return;
    let msg: LogMessage | null = null;
    for (const sink of this.sinks) {
      const override = sink.kind === 'DB' ? levels.db : sink.kind === 'AC' ? levels.ac : null;
      if (!allows(override ?? sink.levels, level)) continue;
      // An id is spent only on a message some logger keeps.
      msg ??= { id: jobId, mid: this.ids.next(), level, message: text, epoch };
      sink.write(msg);
    }
  }
}

/** `[logging.X] type = "console"`: one line per message on the agent's own log. */
export function consoleSink(levels: Levels, logger: Logger): LogSink {
  return {
    kind: 'console',
    levels,
    write: (msg) => logger.info({ job: msg.id, level: msg.level, mid: msg.mid }, msg.message),
  };
}
