/** What the controller's HTTP routes and streams accept; every field is checked before anything is stored. */
import { z } from 'zod';
import { jobArgs, JOB_STATES, MAX_BATCH, MAX_NODE_NUMBER } from '../../protocol/job.js';

const id = z.string().min(1).max(200);
// An agent could never poll for a node its path cannot name.
const nodeNumber = z.number().int().min(0).max(MAX_NODE_NUMBER);
/** JumpScale's client sends `null` (None) for "not given". */
const optionalNode = nodeNumber.nullish().transform((v) => v ?? undefined);
const role = z.string().min(1).max(100);
/** One path segment of the script directory: no separators, no leading dot. */
const segment = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/, 'expected letters, digits, _ . - (not starting with .)');
const MAX_WAIT_S = 24 * 3600;

/** `/{gid}/{nid}/...`: decimal integers only (`1e3` or `0x10` are not node ids). */
export const nodeParams = z.object({
  gid: z.string().regex(/^\d{1,9}$/, 'expected a node group id (integer)').transform(Number),
  nid: z.string().regex(/^\d{1,9}$/, 'expected a node id (integer)').transform(Number),
});

const seconds = (max: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'expected a number of seconds')
    .transform(Number)
    .pipe(z.number().max(max));

/** Offers a poll asks for: its agent's free job slots; 0 (no free slot) takes urgent jobs only. */
const pollMax = z.number().int().min(0).max(MAX_BATCH);

export const pollQuery = z.object({
  role: z.union([role, z.array(role).max(100)]).optional().transform((r) => (r === undefined ? [] : Array.isArray(r) ? r : [r])),
  timeout: seconds(MAX_WAIT_S).optional(),
  max: z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(pollMax).optional(),
});

export const scriptQuery = z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest') });

export const submitBody = z
  .object({
    cmd: z.string().min(1).max(200),
    args: jobArgs.partial().optional(),
    data: z.string().optional(),
    gid: optionalNode,
    nid: optionalNode,
    roles: z.array(role).max(100).optional(),
    fanout: z.boolean().optional(),
    tags: z.string().max(10_000).optional(),
    id: id.optional(),
    wait: z.number().min(0).max(MAX_WAIT_S).optional(),
  })
  .strict()
  .refine((b) => b.nid !== undefined || (b.roles?.length ?? 0) > 0, { message: 'give nid (with gid) or roles', path: ['nid'] });

export const jobParams = z.object({ id });
export const getQuery = z.object({ wait: seconds(MAX_WAIT_S).optional() });

export const listQuery = z.object({
  state: z.enum(JOB_STATES).optional(),
  limit: z.string().regex(/^\d+$/, 'expected a positive integer').transform(Number).pipe(z.number().int().min(1).max(10_000)).optional(),
});

export const logsQuery = z.object({
  limit: z.string().regex(/^\d+$/, 'expected a positive integer').transform(Number).pipe(z.number().int().min(1).max(100_000)).optional(),
});

export const statsQuery = nodeParams;

export const executeJumpScriptBody = z
  .object({
    organization: segment,
    name: segment,
    gid: optionalNode,
    nid: optionalNode,
    role: role.nullish().transform((v) => v ?? undefined),
    args: z.record(z.string(), z.unknown()).optional(),
    timeout: z.number().int().min(0).max(MAX_WAIT_S).optional(),
    wait: z.union([z.boolean(), z.number().min(0).max(MAX_WAIT_S)]).optional(),
    queue: z.string().max(200).nullish().transform((v) => v ?? undefined),
  })
  .strict();

/** Stream calls carry JSON bodies where HTTP has paths and queries: numbers are numbers. */
export const streamPollBody = z.strictObject({
  role: z.array(role).max(100).default([]),
  max: pollMax.default(1),
  timeout: z.number().min(0).max(MAX_WAIT_S).optional(),
});
export const streamGetBody = z.strictObject({ id, wait: z.number().min(0).max(MAX_WAIT_S).optional() });
export const streamIdBody = z.strictObject({ id });
