/**
 * What to spawn for the commands that run a process: `execute` (REFERENCE 2.2), the `[cmds.X]`
 * extensions (an `execute` with the section's binary, cwd, env and `{key}` arguments filled from
 * the job's args) and `jumpscript` (the script by hash, run by the interpreter of its extension).
 * Bad arguments throw BAD_REQUEST naming the argument; the job then ends ERROR with that reason.
 */
import { z } from 'zod';
import type { Job } from '../../protocol/job.js';
import { Errors } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import type { ExtensionCmd } from '../config/types.js';
import type { ProcessSpec } from '../jobs/job-process.js';
import { INTERPRETERS, type JumpscriptCache } from './jumpscripts.js';

export interface SpecContext {
  cmds: Readonly<Record<string, ExtensionCmd>>;
  scripts: JumpscriptCache;
}

const jumpscriptArgs = z.looseObject({
  hash: z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected a sha256 in hex' }),
  ext: z
    .string()
    .transform((e) => (e.startsWith('.') ? e : `.${e}`))
    .refine((e) => Object.hasOwn(INTERPRETERS, e), { error: `expected one of ${Object.keys(INTERPRETERS).join(' ')}` }),
});

export function runsProcess(cmd: string, cmds: Readonly<Record<string, ExtensionCmd>>): boolean {
  return cmd === 'execute' || cmd === 'jumpscript' || Object.hasOwn(cmds, cmd);
}

export async function processSpec(job: Job, origin: string | null, ctx: SpecContext): Promise<ProcessSpec> {
  const { args } = job;
  const env = (...layers: (Record<string, string> | undefined)[]) => Object.assign({ ...process.env }, ...layers);
  if (job.cmd === 'execute') {
    if (!args.name) throw Errors.BAD_REQUEST('args.name: the binary to run is required');
    return { binary: args.name, args: args.args ?? [], cwd: args.working_dir, env: env(args.env), stdin: job.data };
  }
  if (job.cmd === 'jumpscript') {
    const { hash, ext } = check(jumpscriptArgs, args, 'args');
    const file = await ctx.scripts.file(hash, ext, origin);
    return { binary: INTERPRETERS[ext]!, args: [file], cwd: args.working_dir, env: env(args.env), stdin: job.data };
  }
  const ext = ctx.cmds[job.cmd]!;
  return {
    binary: ext.binary,
    args: ext.args.map((template) => fill(template, job, job.cmd)),
    cwd: ext.cwd ?? args.working_dir,
    env: env(ext.env, args.env),
    stdin: job.data,
  };
}

/** `{domain}/{name}.py` with the job's `args.domain` and `args.name`. */
function fill(template: string, job: Job, cmd: string): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = (job.args as Record<string, unknown>)[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw Errors.BAD_REQUEST(`args.${key}: required by the arguments of [cmds.${cmd}]`);
  });
}
