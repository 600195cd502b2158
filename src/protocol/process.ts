/**
 * Named processes on nodes (REFERENCE 3, MUSCLE3's AgentManager), on the wire: what a client asks
 * to start, what an agent reports when one finished, and the facts an agent announces when it
 * connects (its CPU cores, the processes it still knows about).
 *
 * Exit codes: 0–255 as the process exited; `-N` killed by signal N (as Python's subprocess says);
 * and two codes of our own for processes whose exit status nobody saw:
 */
import path from 'node:path';
import { z } from 'zod';

/** The exit status is unknown: the agent was lost (silent past its TTL), or restarted while it ran. */
export const EXIT_LOST = -1000;
/** It never ran: cancelled before it reached the agent, or the agent could not start it. */
export const EXIT_NOT_STARTED = -1001;

/** The built-in agent commands that carry `start` and `cancel_all` to a node. */
export const START_PROCESS = 'start_process';
export const CANCEL_PROCESSES = 'cancel_all_processes';

/** A node is named `<gid>_<nid>` exactly, as listSessions and client certificates name it: `1_01` is not `1_1`. */
export const NODE_NAME = /^(0|[1-9]\d{0,8})_(0|[1-9]\d{0,8})$/;

/** Instance names as MUSCLE3 writes them (`macro`, `micro[3]`), plus a few harmless signs. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:@+=,[\]-]{0,199}$/;

const required = (what: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? `required: ${what}` : `expected ${what}`),
});
const absolutePath = (what: string) =>
  z
    .string(required(`${what} (an absolute path on the node)`))
    .min(1, `expected ${what} (an absolute path on the node)`)
    .max(4096)
    .refine((p) => path.posix.isAbsolute(p), { error: (i) => `expected an absolute path on the node, got "${String(i.input)}"` })
    .refine((p) => !p.includes('\0'), 'a path cannot hold a NUL byte');

/** `start(node_name, name, work_dir, args, env, stdout, stderr)` without the node. */
export const processSpec = z.strictObject({
  name: z.string(required('the process name')).regex(NAME, 'expected 1–200 letters, digits or _ . : @ + = , [ ] - (not starting with a sign)'),
  work_dir: absolutePath('the working directory'),
  /** The executable (a path, or found on the agent's PATH) and its arguments. */
  args: z.array(z.string().refine((a) => !a.includes('\0'), 'an argument cannot hold a NUL byte'), required('the executable and its arguments'))
    .min(1, 'expected the executable and its arguments')
    .max(100_000),
  /** Set on top of the agent's own environment. */
  env: z
    .record(z.string().regex(/^[^=\0]+$/), z.string().refine((v) => !v.includes('\0'), 'a value cannot hold a NUL byte'), {
      error: (i) => (i.code === 'invalid_key' ? 'expected a variable name without = or NUL' : 'expected an object of variables'),
    })
    .default({}),
  /** Truncated if it exists. */
  stdout: absolutePath('the file for stdout'),
  stderr: absolutePath('the file for stderr'),
});
export type ProcessSpec = z.output<typeof processSpec>;

/** What an agent reports once a process finished (or it gave up on one). */
export const processExit = z.object({
  /** The process's id: the id of the job that carried its start. */
  id: z.string().min(1),
  name: z.string(),
  exit_code: z.number().int(),
  reason: z.string().default(''),
  /** Unix ms, the agent's clock. */
  ended: z.number(),
});
export type ProcessExit = z.output<typeof processExit>;
export const processExits = z.array(processExit).max(100_000);

/** Logical hardware-thread ids grouped per core, each group and the list sorted. */
export const cores = z.array(z.array(z.number().int().min(0)).min(1)).max(100_000);
export type Cores = z.output<typeof cores>;

/** What an agent adds to its `startup` event for the process API. */
export const startupFacts = z.looseObject({
  cores: cores.optional(),
  /** Every process the agent still knows: running, or finished and not yet acknowledged. */
  processes: z.array(z.string()).max(1_000_000).optional(),
});
