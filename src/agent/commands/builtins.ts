/**
 * The agent's built-in commands (REFERENCE 2.4). They run at once, outside `max_jobs` and the
 * queues, because `kill` must reach an agent whose slots are all taken. Each answers a value that
 * becomes the result's data as JSON at level 20; a thrown error ends the job ERROR.
 */
import { z } from 'zod';
import type { BuiltinCommand } from '../../protocol/builtins.js';
import type { Job } from '../../protocol/job.js';
import { CANCEL_PROCESSES, processSpec, START_PROCESS } from '../../protocol/process.js';
import { Errors } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import { verdict, type Outcome } from '../jobs/outcome.js';
import type { DbLogger } from '../logging/db-logger.js';
import { parseLevelList } from '../output/level-list.js';
import type { NamedProcesses } from '../processes/named-processes.js';
import type { ProcSampler } from '../stats/proc-sampler.js';
import { cpuInfo, diskInfo, memInfo, nicInfo, osInfo } from './system-info.js';

export interface RunningJob {
  id: string;
  cmd: string;
  pid: number;
}

export interface BuiltinContext {
  /** Kills a job of this agent (running, waiting or queued); false if there is none. */
  kill(id: string): boolean;
  /** Kills every job but `except`; answers how many. */
  killAll(except: string): number;
  running(): RunningJob[];
  messages: DbLogger | null;
  sampler: ProcSampler;
  /** Restarts the agent once this job's result is out. */
  restart(): void;
  processes: NamedProcesses;
  /** Key of the controller the job came from; null for the agent's own startup tasks. */
  origin: string | null;
}

type Builtin = (job: Job, ctx: BuiltinContext) => unknown;

export async function runBuiltin(builtin: Builtin, job: Job, ctx: BuiltinContext): Promise<Outcome> {
  const startedAt = Date.now();
  try {
    return verdict('SUCCESS', '', startedAt, JSON.stringify(await builtin(job, ctx)) ?? 'null', 20);
  } catch (err) {
    return verdict('ERROR', (err as Error).message, startedAt);
  }
}

const killArgs = z.looseObject({ id: z.string({ error: 'expected the id of the job to kill' }).min(1) });
const msgArgs = z.looseObject({
  id: z.string().optional(),
  levels: z.string().default('*'),
  limit: z.number().int().min(1).max(10_000).default(1000),
});

export const BUILTINS: Readonly<Record<BuiltinCommand, Builtin>> = {
  ping: () => 'pong',
  kill: (job, ctx) => {
    const { id } = check(killArgs, job.args, 'args');
    if (!ctx.kill(id)) throw Errors.NOT_FOUND(`job ${id} on this agent`);
    return { killed: id };
  },
  killall: (job, ctx) => ({ killed: ctx.killAll(job.id) }),
  get_msgs: (job, ctx) => {
    if (!ctx.messages) throw Errors.ILLEGAL_STATE('get_msgs needs a [logging.X] section with type = "DB"');
    const { id, levels, limit } = check(msgArgs, job.args, 'args');
    return ctx.messages.query({ ...(id !== undefined ? { id } : {}), levels: parseLevelList(levels, 'args.levels') ?? 'all', limit });
  },
  get_process_stats: (_job, ctx) => {
    const jobs = ctx.running();
    const usage = ctx.sampler.sample(jobs.map((j) => j.pid));
    return jobs.map((j) => {
      const u = usage.get(j.pid);
      return { id: j.id, cmd: j.cmd, pid: j.pid, processes: u?.processes ?? 0, cpu_percent: u?.cpuPercent ?? 0, rss: u?.rssBytes ?? 0 };
    });
  },
  get_cpu_info: () => cpuInfo(),
  get_mem_info: () => memInfo(),
  get_disk_info: () => diskInfo(),
  get_nic_info: () => nicInfo(),
  get_os_info: () => osInfo(),
  /** Answers once the process is spawned (or failed to be): its end is reported on its own channel. */
  [START_PROCESS]: (job, ctx) => {
    if (ctx.origin === null) throw Errors.BAD_REQUEST(`${START_PROCESS} must come from a controller: the process's end is reported to it`);
    const { name, work_dir, args, env, stdout, stderr } = job.args;
    return ctx.processes.start(job.id, check(processSpec, { name, work_dir, args, env, stdout, stderr }, 'args'), ctx.origin);
  },
  [CANCEL_PROCESSES]: (_job, ctx) => ({ cancelled: ctx.processes.cancelAll() }),
  restart: (_job, ctx) => {
    ctx.restart();
    return 'restarting';
  },
};
