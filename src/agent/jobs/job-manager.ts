/**
 * Every job of the agent from acceptance to its final result. A job's life:
 *
 *   queued   waiting for a slot (`max_jobs`) and for its `queue` to be free
 *   starting its process is being prepared (a jumpscript may be downloading)
 *   running  its process group is alive
 *   waiting  between runs: restart backoff (`max_restart`) or `recurring_period`
 *
 * and then it is gone, its result reported. Built-ins and unknown commands skip all of it and
 * answer at once. Long-running jobs (`max_time` -1) sit in the history from acceptance until
 * their final result, so an agent restart reruns them; stopping the agent keeps them there.
 */
import type { Logger } from 'pino';
import type { Job, JobState, Result } from '../../protocol/job.js';
import { backoffDelay, type Backoff } from '../backoff.js';
import { BUILTINS, type BuiltinContext, type RunningJob } from '../commands/builtins.js';
import { processSpec, runsProcess, type SpecContext } from '../commands/process-spec.js';
import { jobLogLevels, type JobLogLevels, type LogRouter } from '../logging/log-router.js';
import type { StatsAggregator } from '../stats/statsd.js';
import type { History } from './history.js';
import { JobProcess, type ProcessOutcome } from './job-process.js';
import { Scheduler } from './scheduler.js';

export interface JobManagerOptions {
  node: { gid: number; nid: number };
  maxJobs: number;
  logger: Logger;
  history: History;
  logs: LogRouter;
  stats: StatsAggregator;
  specs: SpecContext;
  builtins: Pick<BuiltinContext, 'messages' | 'sampler' | 'restart'>;
  /** Sends a result to the controller the job came from (null: to every controller). */
  report: (result: Result, origin: string | null) => void;
  killGraceMs: number;
  restartBackoff: Backoff;
}

/** A run's outcome, or the verdict on a job that never ran. */
type Outcome = Omit<ProcessOutcome, 'state'> & { state: JobState };

interface Tracked {
  job: Job;
  origin: string | null;
  levels: JobLogLevels;
  persistent: boolean;
  phase: 'queued' | 'starting' | 'running' | 'waiting';
  proc: JobProcess | null;
  timer: NodeJS.Timeout | null;
  failures: number;
  killed: boolean;
}

export class JobManager {
  private readonly jobs = new Map<string, Tracked>();
  private readonly scheduler: Scheduler<string>;
  private readonly runs = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly o: JobManagerOptions) {
    this.scheduler = new Scheduler(o.maxJobs);
  }

  /** Takes a job; `persist` false for jobs the agent reruns anyway (startup tasks, history). */
  submit(job: Job, origin: string | null, persist = true): void {
    const now = Date.now();
    if (this.jobs.has(job.id)) return this.reportNow(job, origin, 'DUPLICATE_ID', `job ${job.id} is already active on this agent`, now);
    const builtin = BUILTINS[job.cmd];
    if (builtin) return void this.runBuiltin(job, origin, builtin);
    if (!runsProcess(job.cmd, this.o.specs.cmds)) return this.reportNow(job, origin, 'UNKNOWN_CMD', `unknown command "${job.cmd}"`, now);
    let levels: JobLogLevels;
    try {
      levels = jobLogLevels(job.args);
    } catch (err) {
      return this.reportNow(job, origin, 'ERROR', (err as Error).message, now);
    }
    const persistent = job.args.max_time === -1;
    if (persistent && persist) this.o.history.addLongRunning(job, origin);
    const t: Tracked = { job, origin, levels, persistent, phase: 'queued', proc: null, timer: null, failures: 0, killed: false };
    this.jobs.set(job.id, t);
    this.enqueue(t);
  }

  /** Answers ERROR for a job that cannot even be read (the reason names the bad field). */
  refuse(job: Job, origin: string | null, reason: string): void {
    this.reportNow(job, origin, 'ERROR', reason, Date.now());
  }

  kill(id: string): boolean {
    const t = this.jobs.get(id);
    if (!t) return false;
    if (t.killed) return true;
    t.killed = true;
    if (t.phase === 'running') t.proc?.kill('KILLED');
    else if (t.phase === 'queued' || t.phase === 'waiting') {
      this.scheduler.remove(id);
      if (t.timer) clearTimeout(t.timer);
      this.finish(t, this.noRun('KILLED'));
    }
    return true;
  }

  killAll(except: string): number {
    return [...this.jobs.keys()].filter((id) => id !== except && this.kill(id)).length;
  }

  running(): RunningJob[] {
    return [...this.jobs.values()].flatMap((t) => (t.proc?.pid ? [{ id: t.job.id, cmd: t.job.cmd, pid: t.proc.pid }] : []));
  }

  /** Kills every process and waits for them; long-running jobs stay in the history. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.jobs.values()) {
      if (t.timer) clearTimeout(t.timer);
      if (t.phase === 'running') t.proc?.kill('KILLED');
      else if (t.phase !== 'starting') {
        this.scheduler.remove(t.job.id);
        this.afterRun(t, this.noRun('KILLED'));
      }
    }
    while (this.runs.size > 0) await Promise.all(this.runs);
  }

  private enqueue(t: Tracked): void {
    t.phase = 'queued';
    this.scheduler.enqueue(t.job.id, t.job.args.queue);
    this.pump();
  }

  private pump(): void {
    if (this.stopping) return;
    for (const id of this.scheduler.take()) {
      const run = this.start(this.jobs.get(id)!).finally(() => this.runs.delete(run));
      this.runs.add(run);
    }
  }

  private async start(t: Tracked): Promise<void> {
    t.phase = 'starting';
    let outcome: Outcome;
    try {
      const spec = await processSpec(t.job, t.origin, this.o.specs);
      if (t.killed || this.stopping) outcome = this.noRun('KILLED');
      else {
        const maxTime = t.job.args.max_time;
        t.proc = new JobProcess(spec, {
          maxTimeMs: maxTime > 0 ? maxTime * 1000 : null,
          killGraceMs: this.o.killGraceMs,
          onMessage: (m) => this.onMessage(t, m.level, m.text),
        });
        t.phase = 'running';
        outcome = await t.proc.done;
      }
    } catch (err) {
      outcome = this.noRun('ERROR', (err as Error).message);
    }
    t.proc = null;
    this.scheduler.done(t.job.args.queue);
    this.afterRun(t, outcome);
    this.pump();
  }

  private afterRun(t: Tracked, outcome: Outcome): void {
    const { args } = t.job;
    if (t.killed) return this.finish(t, { ...outcome, state: 'KILLED' });
    if (this.stopping) {
      this.jobs.delete(t.job.id);
      // A long-running job stays in the history for the next start; anything else is over.
      if (!t.persistent) this.o.report(this.build(t.job, { ...outcome, state: 'KILLED', critical: 'the agent stopped' }), t.origin);
      return;
    }
    const failed = outcome.state === 'ERROR' || outcome.state === 'TIMEOUT';
    if (failed && t.failures < args.max_restart) {
      t.failures++;
      const delayMs = backoffDelay(this.o.restartBackoff, t.failures);
      this.o.logger.info({ job: t.job.id, state: outcome.state, restart: t.failures, of: args.max_restart, delayMs }, 'job failed; restarting');
      return this.waitThen(t, delayMs);
    }
    if (args.recurring_period > 0) {
      // Between runs the job is still active: its result so far is progress, not an end.
      this.o.report(this.build(t.job, { ...outcome, state: 'RUNNING' }), t.origin);
      t.failures = 0;
      return this.waitThen(t, args.recurring_period * 1000);
    }
    this.finish(t, outcome);
  }

  private waitThen(t: Tracked, ms: number): void {
    t.phase = 'waiting';
    t.timer = setTimeout(() => {
      t.timer = null;
      this.enqueue(t);
    }, ms);
  }

  private finish(t: Tracked, outcome: Outcome): void {
    this.jobs.delete(t.job.id);
    if (t.persistent) this.o.history.remove(t.job.id);
    this.o.stats.forget(`job.${t.job.id}.`);
    this.o.report(this.build(t.job, outcome), t.origin);
  }

  private onMessage(t: Tracked, level: number, text: string): void {
    this.o.logs.log(t.job.id, t.levels, level, text);
    if (level !== 10) return;
    for (const line of text.split('\n')) {
      if (line.trim() !== '' && !this.o.stats.add(line)) this.o.logger.debug({ job: t.job.id, line }, 'statsd line refused');
    }
  }

  private async runBuiltin(job: Job, origin: string | null, builtin: (typeof BUILTINS)[string]): Promise<void> {
    const startedAt = Date.now();
    const ctx: BuiltinContext = { ...this.o.builtins, kill: (id) => this.kill(id), killAll: (except) => this.killAll(except), running: () => this.running() };
    try {
      const data = JSON.stringify(await builtin(job, ctx)) ?? 'null';
      this.o.report(this.build(job, { state: 'SUCCESS', data, level: 20, critical: '', streams: ['', ''], startedAt, endedAt: Date.now() }), origin);
    } catch (err) {
      this.reportNow(job, origin, 'ERROR', (err as Error).message, startedAt);
    }
  }

  private reportNow(job: Job, origin: string | null, state: JobState, why: string, startedAt: number): void {
    this.o.report(this.build(job, { state, data: '', level: 0, critical: why, streams: ['', ''], startedAt, endedAt: Date.now() }), origin);
  }

  /** The outcome of a run that never had a process (killed while queued, bad arguments). */
  private noRun(state: 'KILLED' | 'ERROR', critical = ''): ProcessOutcome {
    const now = Date.now();
    return { state, data: '', level: 0, critical, streams: ['', ''], startedAt: now, endedAt: now };
  }

  private build(job: Job, o: Outcome): Result {
    return {
      id: job.id,
      gid: this.o.node.gid,
      nid: this.o.node.nid,
      cmd: job.cmd,
      args: job.args,
      data: o.data,
      level: o.level,
      state: o.state,
      starttime: o.startedAt,
      time: o.endedAt - o.startedAt,
      streams: o.streams,
      critical: o.critical,
      tags: job.tags,
    };
  }
}
