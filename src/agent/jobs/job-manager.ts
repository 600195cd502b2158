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
import { isBuiltinCommand } from '../../protocol/builtins.js';
import type { Job, Result } from '../../protocol/job.js';
import { backoffDelay, type Backoff } from '../backoff.js';
import { BUILTINS, runBuiltin, type BuiltinContext, type RunningJob } from '../commands/builtins.js';
import { processSpec, runsProcess, type SpecContext } from '../commands/process-spec.js';
import { jobLogLevels, type JobLogLevels, type LogRouter } from '../logging/log-router.js';
import type { StatsAggregator } from '../stats/statsd.js';
import type { History } from './history.js';
import { JobProcess } from './job-process.js';
import { toResult, verdict, type Outcome } from './outcome.js';
import { Scheduler } from './scheduler.js';

export interface JobManagerOptions {
  node: { gid: number; nid: number };
  maxJobs: number;
  logger: Logger;
  history: History;
  logs: LogRouter;
  stats: StatsAggregator;
  specs: SpecContext;
  builtins: Pick<BuiltinContext, 'messages' | 'sampler' | 'restart' | 'processes'>;
  /** Sends a result to the controller the job came from (null: to every controller). */
  report: (result: Result, origin: string | null) => void;
  killGraceMs: number;
  restartBackoff: Backoff;
}

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
  private readonly slotFreed = new Set<() => void>();
  private stopping = false;

  constructor(private readonly o: JobManagerOptions) {
    this.scheduler = new Scheduler(o.maxJobs);
  }

  /** Takes a job; `persist` false for jobs the agent reruns anyway (startup tasks, history). */
  submit(job: Job, origin: string | null, persist = true): void {
    if (this.jobs.has(job.id)) return this.report(job, origin, verdict('DUPLICATE_ID', `job ${job.id} is already active on this agent`));
    if (isBuiltinCommand(job.cmd)) {
      const builtin = BUILTINS[job.cmd];
      const ctx: BuiltinContext = { ...this.o.builtins, origin, kill: (id) => this.kill(id), killAll: (except) => this.killAll(except), running: () => this.running() };
      return void runBuiltin(builtin, job, ctx).then((outcome) => this.report(job, origin, outcome));
    }
    if (!runsProcess(job.cmd, this.o.specs.cmds)) return this.report(job, origin, verdict('UNKNOWN_CMD', `unknown command "${job.cmd}"`));
    let levels: JobLogLevels;
    try {
      levels = jobLogLevels(job.args);
    } catch (err) {
      return this.report(job, origin, verdict('ERROR', (err as Error).message));
    }
    const persistent = job.args.max_time === -1;
    if (persistent && persist) this.o.history.addLongRunning(job, origin);
    const t: Tracked = { job, origin, levels, persistent, phase: 'queued', proc: null, timer: null, failures: 0, killed: false };
    this.jobs.set(job.id, t);
    this.enqueue(t);
  }

  /** Answers a job the agent will not run: ERROR for one that cannot even be read (the reason names the bad field). */
  refuse(job: Job, origin: string | null, reason: string, state: 'ERROR' | 'DUPLICATE_ID' = 'ERROR'): void {
    this.report(job, origin, verdict(state, reason));
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
      this.finish(t, verdict('KILLED'));
    }
    return true;
  }

  killAll(except: string): number {
    return [...this.jobs.keys()].filter((id) => id !== except && this.kill(id)).length;
  }

  running(): RunningJob[] {
    return [...this.jobs.values()].flatMap((t) => (t.proc?.pid ? [{ id: t.job.id, cmd: t.job.cmd, pid: t.proc.pid }] : []));
  }

  /**
   * Jobs held in any phase — queued, starting, running, waiting — each of which takes a job slot:
   * a job still queued here would wait for a slot when another node might have one free.
   * Built-ins are never held.
   */
  active(): number {
    return this.jobs.size;
  }

  /** Calls `listener` each time a job ends and frees its slot; answers the unsubscribe. */
  onSlotFreed(listener: () => void): () => void {
    this.slotFreed.add(listener);
    return () => this.slotFreed.delete(listener);
  }

  /** Kills every process and waits for them; long-running jobs stay in the history. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.jobs.values()) {
      if (t.timer) clearTimeout(t.timer);
      if (t.phase === 'running') t.proc?.kill('KILLED');
      else if (t.phase !== 'starting') {
        this.scheduler.remove(t.job.id);
        this.afterRun(t, verdict('KILLED'));
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
      if (t.killed || this.stopping) outcome = verdict('KILLED');
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
      outcome = verdict('ERROR', (err as Error).message);
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
      if (!t.persistent) this.report(t.job, t.origin, { ...outcome, state: 'KILLED', critical: 'the agent stopped' });
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
      this.report(t.job, t.origin, { ...outcome, state: 'RUNNING' });
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
    for (const listener of this.slotFreed) listener();
    if (t.persistent) this.o.history.remove(t.job.id);
    this.o.stats.forget(`job.${t.job.id}.`);
    this.report(t.job, t.origin, outcome);
  }

  private onMessage(t: Tracked, level: number, text: string): void {
    this.o.logs.log(t.job.id, t.levels, level, text);
    if (level !== 10) return;
    for (const line of text.split('\n')) {
      if (line.trim() !== '' && !this.o.stats.add(line)) this.o.logger.debug({ job: t.job.id, line }, 'statsd line refused');
    }
  }

  private report(job: Job, origin: string | null, outcome: Outcome): void {
    this.o.report(toResult(job, this.o.node, outcome), origin);
  }
}
