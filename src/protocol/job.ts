/**
 * The wire format between controller, agents and clients (REFERENCE 2.1–2.3): commands (jobs),
 * results, log messages, stats and events. Both sides validate with these schemas, so a field
 * means the same thing everywhere.
 */
import { z } from 'zod';

/** gid and nid: what a path segment of at most 9 digits holds (`/{gid}/{nid}/...`, `<gid>_<nid>`). */
export const MAX_NODE_NUMBER = 999_999_999;

export const JOB_STATES = ['QUEUED', 'RUNNING', 'SUCCESS', 'ERROR', 'TIMEOUT', 'KILLED', 'UNKNOWN_CMD', 'DUPLICATE_ID'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['SUCCESS', 'ERROR', 'TIMEOUT', 'KILLED', 'UNKNOWN_CMD', 'DUPLICATE_ID']);

/** Level lists as JumpScale writes them: `"*"`, `"1,2,3"`, `"1-5,20"`, or empty for the default. */
export const levelList = z.string();

/** The longest wait a Node timer keeps (2^31-1 ms); a longer one would fire at once. */
export const MAX_TIMER_S = Math.floor((2 ** 31 - 1) / 1000);
const timerSeconds = (min: number) => z.number().min(min).max(MAX_TIMER_S, { error: `expected at most ${MAX_TIMER_S} seconds (24.8 days)` });

/** `args` of a command; `execute` and extension commands read their own keys from it. */
export const jobArgs = z.looseObject({
  name: z.string().optional(),
  args: z.array(z.string()).optional(),
  working_dir: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
  domain: z.string().optional(),
  /** > 0 kill after that many seconds (TIMEOUT); 0 no limit; -1 long-running, kept in history_file. */
  max_time: timerSeconds(-1).int().default(0),
  max_restart: z.number().int().min(0).default(0),
  recurring_period: timerSeconds(0).default(0),
  stats_interval: timerSeconds(0).default(0),
  /** Jobs with the same queue run one after another on an agent. */
  queue: z.string().default(''),
  loglevels: levelList.default('*'),
  loglevels_db: levelList.default(''),
  loglevels_ac: levelList.default(''),
});
export type JobArgs = z.output<typeof jobArgs>;

/** A command as the controller hands it to an agent. */
export const job = z.object({
  id: z.string().min(1),
  gid: z.number().int().nullable().default(null),
  nid: z.number().int().nullable().default(null),
  cmd: z.string().min(1),
  roles: z.array(z.string()).default([]),
  fanout: z.boolean().default(false),
  tags: z.string().default(''),
  /** stdin of the process. */
  data: z.string().default(''),
  args: jobArgs.default(jobArgs.parse({})),
});
export type Job = z.output<typeof job>;

/** What an agent receives from a poll: the job plus the lease it must acknowledge. */
export const offer = job.extend({ lease: z.string().min(1) });
export type Offer = z.output<typeof offer>;

export const result = z.object({
  id: z.string().min(1),
  gid: z.number().int(),
  nid: z.number().int(),
  cmd: z.string(),
  args: z.unknown().optional(),
  /** The last message at a result level (20–23), or the stdout tail. */
  data: z.string().default(''),
  level: z.number().int().default(0),
  state: z.enum(JOB_STATES),
  /** Unix ms. */
  starttime: z.number(),
  /** Run time in ms. */
  time: z.number(),
  /** [stdout tail, stderr tail]. */
  streams: z.tuple([z.string(), z.string()]).default(['', '']),
  /** Level-9 messages. */
  critical: z.string().default(''),
  tags: z.string().default(''),
});
export type Result = z.output<typeof result>;

export const logMessage = z.object({
  /** Job id the message belongs to. */
  id: z.string(),
  /** Agent-wide message id (32-bit, survives restarts). */
  mid: z.number().int().min(0),
  level: z.number().int().min(1).max(30),
  message: z.string(),
  /** Unix ms. */
  epoch: z.number(),
});
export type LogMessage = z.output<typeof logMessage>;
export const logBatch = z.array(logMessage).max(100_000);

export const statsBatch = z.object({
  timestamp: z.number(),
  series: z.array(z.tuple([z.string(), z.number()])),
});
export type StatsBatch = z.output<typeof statsBatch>;

export const agentEvent = z.looseObject({ name: z.string().min(1) });
export type AgentEvent = z.output<typeof agentEvent>;

/** Result levels: the last message at one of these becomes the result's data. */
export const RESULT_LEVELS: ReadonlySet<number> = new Set([20, 21, 22, 23]);
export const Level = {
  STDOUT: 1,
  STDERR: 2,
  PUBLIC: 3,
  OPERATOR: 4,
  LOG: 5,
  STRUCTURED: 6,
  WARNING: 7,
  OPS_ERROR: 8,
  CRITICAL: 9,
  STATSD: 10,
  RESULT_JSON: 20,
  RESULT_YAML: 21,
  RESULT_TOML: 22,
  RESULT_HRD: 23,
  JOB: 30,
} as const;

/** What an agent posts to `/{gid}/{nid}/ack` to confirm it took an offer. */
export const ack = z.object({ id: z.string().min(1), lease: z.string().min(1) });
export type Ack = z.output<typeof ack>;

/** Most offers one poll may ask for (`max`), and most items in one batched ack or result post. */
export const MAX_BATCH = 1000;
export const ackBatch = z.array(ack).min(1).max(MAX_BATCH);
export const resultBatch = z.array(result).min(1).max(MAX_BATCH);

/**
 * The controller's answer to one item of a batched ack or result: the item was taken, or refused
 * with the code and message a single post would have got (a stale lease, a job never given).
 */
export const batchOutcome = z.union([
  z.object({ id: z.string(), ok: z.literal(true) }),
  z.object({ id: z.string(), ok: z.literal(false), code: z.string(), message: z.string() }),
]);
export type BatchOutcome = z.output<typeof batchOutcome>;
export const batchOutcomes = z.array(batchOutcome);

/** Script file extensions a jumpscript may have, in the order the controller looks for them. */
export const JUMPSCRIPT_EXTENSIONS = ['py', 'sh', 'js', 'mjs'] as const;

/**
 * `args` of the `jumpscript` command. The agent fetches the script's text with
 * `GET /script?hash=<hash>`; the script's own arguments are the job's `data` (a JSON object).
 */
export const jumpscriptArgs = jobArgs.extend({
  organization: z.string().min(1),
  name: z.string().min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  ext: z.enum(JUMPSCRIPT_EXTENSIONS),
});
export type JumpscriptArgs = z.output<typeof jumpscriptArgs>;

/** `args` of the built-in `kill` command the controller sends to stop a running job. */
export const killArgs = jobArgs.extend({ id: z.string().min(1) });
