/**
 * The agent2 TOML format (REFERENCE 2.4) as zod schemas. Tables are strict: a misspelt key
 * (`max_job = 10`) is reported rather than silently ignored, because the original's habit of
 * ignoring it left agents running with defaults nobody chose. Messages are the reason part of
 * `file:line: key: reason`.
 */
import { z } from 'zod';
import { jobArgs, MAX_NODE_NUMBER, MAX_TIMER_S } from '../../protocol/job.js';

const text = z.string({ error: 'expected a string' });
const name = text.min(1, { error: 'expected a non-empty string' });
const int = z.number({ error: 'expected an integer' }).int({ error: 'expected an integer' });
const positiveInt = int.min(1, { error: 'expected an integer >= 1' });
const duration = z.number({ error: 'expected a number of seconds > 0' }).positive({ error: 'expected a number of seconds > 0' });
/** A period the agent sets a timer for. */
const seconds = duration.max(MAX_TIMER_S, { error: `expected at most ${MAX_TIMER_S} seconds (24.8 days)` });
const names = z.array(name, { error: 'expected a list of strings' });
const level = int.min(1, { error: 'expected a level from 1 to 30' }).max(30, { error: 'expected a level from 1 to 30' });
const levels = z.array(level, { error: 'expected a list of levels ([] for all)' }).default([]);
/** The seed writes an absent certificate as an empty string. */
const optionalPath = text.optional().transform((p) => (p === '' ? undefined : p));

/** The controller names a node in its paths with at most 9 digits. */
const nodeNumber = int.min(0, { error: `expected an integer from 0 to ${MAX_NODE_NUMBER}` }).max(MAX_NODE_NUMBER, { error: `expected an integer from 0 to ${MAX_NODE_NUMBER}` });

const main = z.strictObject({
  gid: nodeNumber,
  nid: nodeNumber,
  max_jobs: positiveInt.default(100),
  message_id_file: name.default('./.mid'),
  history_file: name.default('./.history'),
  roles: names.default([]),
  /** coxswain extension: the agent's own files (jumpscript cache). */
  state_dir: name.optional(),
});

const security = z
  .strictObject({
    client_certificate: optionalPath,
    client_certificate_key: optionalPath,
    certificate_authority: optionalPath,
  })
  .superRefine((s, ctx) => {
    if (Boolean(s.client_certificate) === Boolean(s.client_certificate_key)) return;
    const missing = s.client_certificate ? 'client_certificate_key' : 'client_certificate';
    ctx.addIssue({ code: 'custom', path: [missing], message: 'client_certificate and client_certificate_key go together' });
  });

const url = text.refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
  error: 'expected an http:// or https:// URL',
});

const controller = z.strictObject({
  url,
  /** coxswain extension: a bearer token for controllers that require one. */
  token: name.optional(),
  /**
   * coxswain extension: `stream` (default) speaks the protocol over one upgraded connection;
   * `http` is a request per call, as JumpScale's agents did.
   */
  transport: z.enum(['stream', 'http'], { error: 'expected "stream" or "http"' }).default('stream'),
  security: security.prefault({}),
});

const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' });

const cmd = z.strictObject({
  binary: name,
  cwd: name.optional(),
  args: z.array(text, { error: 'expected a list of strings' }).default([]),
  env: z
    .record(z.string(), scalar, { error: 'expected a table of variables' })
    .default({})
    .transform((vars) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)]))),
});

const dbLogger = z.strictObject({
  type: z.literal('DB'),
  log_dir: name.default('./logs'),
  levels,
  /** coxswain extensions: rotation of the SQLite files. */
  max_file_size: positiveInt.default(64 * 1024 * 1024),
  max_file_age: duration.default(24 * 3600),
  max_files: positiveInt.default(7),
});

const acLogger = z.strictObject({
  type: z.literal('AC'),
  flush_int: seconds.default(300),
  batch_size: positiveInt.default(1000),
  controllers: names.default([]),
  levels,
});

const consoleLogger = z.strictObject({ type: z.literal('console'), levels });

const logger = z.discriminatedUnion('type', [dbLogger, acLogger, consoleLogger], {
  error: 'expected type = "DB", "AC" or "console"',
});

const startup = z.strictObject({
  name,
  args: jobArgs.prefault({}),
});

export const agentFileSchema = z.strictObject({
  main,
  controllers: z
    .record(z.string(), controller, { error: 'expected [controllers.<name>] tables' })
    .refine((c) => Object.keys(c).length > 0, { error: 'expected at least one [controllers.<name>] table' }),
  cmds: z.record(z.string(), cmd, { error: 'expected [cmds.<name>] tables' }).default({}),
  channel: z.strictObject({ cmds: names.default([]) }).prefault({}),
  logging: z.record(z.string(), logger, { error: 'expected [logging.<name>] tables' }).default({}),
  stats: z.strictObject({ interval: seconds.default(60), controllers: names.default([]) }).prefault({}),
  startup: z.record(z.string(), startup, { error: 'expected [startup.<name>] tables' }).default({}),
});

export type AgentFile = z.output<typeof agentFileSchema>;
