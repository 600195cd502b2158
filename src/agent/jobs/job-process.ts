/**
 * One run of a job's process: spawned as the leader of its own process group with `data` on
 * stdin, its output parsed by the level protocol as it arrives. Killing (kill, killall, max_time)
 * signals the whole group — the original reached only the direct child, so a shell's children
 * outlived it — SIGTERM first, SIGKILL after the grace period. When the leader exits, whatever is
 * left of its group is killed too.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { LevelParser, type OutputMessage } from '../output/level-parser.js';
import { JobOutput, type OutputFacts } from '../output/job-output.js';

export interface ProcessSpec {
  binary: string;
  args: string[];
  cwd?: string;
  /** The complete environment of the process. */
  env: Record<string, string | undefined>;
  stdin: string;
}

export type EndState = 'SUCCESS' | 'ERROR' | 'TIMEOUT' | 'KILLED';

export interface ProcessOutcome extends OutputFacts {
  state: EndState;
  startedAt: number;
  endedAt: number;
}

export interface ProcessOptions {
  /** Kill with TIMEOUT after this long; null for no limit. */
  maxTimeMs: number | null;
  killGraceMs: number;
  onMessage: (msg: OutputMessage) => void;
}

/** How long to wait for the pipes after the leader exited, if something outside the group holds them. */
const DRAIN_MS = 1000;

export class JobProcess {
  readonly done: Promise<ProcessOutcome>;
  pid: number | null = null;
  private stopReason: 'TIMEOUT' | 'KILLED' | null = null;
  private exited = false;
  private graceTimer: NodeJS.Timeout | null = null;

  constructor(spec: ProcessSpec, private readonly opts: ProcessOptions) {
    this.done = this.run(spec);
  }

  /** Ends the run as KILLED (or TIMEOUT); a no-op once the process is gone. */
  kill(reason: 'TIMEOUT' | 'KILLED' = 'KILLED'): void {
    if (this.exited || this.stopReason) return;
    this.stopReason = reason;
    this.signal('SIGTERM');
    this.graceTimer = setTimeout(() => this.signal('SIGKILL'), this.opts.killGraceMs);
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.pid === null) return;
    try {
      process.kill(-this.pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  private run(spec: ProcessSpec): Promise<ProcessOutcome> {
    const startedAt = Date.now();
    const output = new JobOutput();
    const finish = (state: EndState): ProcessOutcome => ({ state, startedAt, endedAt: Date.now(), ...output.facts() });
    const problem = spec.cwd === undefined ? null : missingDirectory(spec.cwd);
    if (problem) {
      output.message({ level: 9, text: problem });
      return Promise.resolve(finish('ERROR'));
    }
    return new Promise((resolve) => {
      const child = spawn(spec.binary, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      this.pid = child.pid ?? null;
      const timer = this.opts.maxTimeMs === null ? null : setTimeout(() => this.kill('TIMEOUT'), this.opts.maxTimeMs);
      const parsers = [new LevelParser(1), new LevelParser(2)] as const;
      const take = (msgs: OutputMessage[]) => {
        for (const m of msgs) {
          output.message(m);
          this.opts.onMessage(m);
        }
      };
      ([child.stdout, child.stderr] as const).forEach((stream, i) => {
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          output.raw(i as 0 | 1, chunk);
          take(parsers[i]!.push(chunk));
        });
      });
      // A process that does not read its stdin closes it under us; that is not an error of the job.
      child.stdin.on('error', () => {});
      child.stdin.end(spec.stdin);

      let settled = false;
      const settle = (state: EndState) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        take(parsers[0].end());
        take(parsers[1].end());
        resolve(finish(state));
      };
      child.once('error', (err) => {
        if (child.pid !== undefined) return; // after a spawn, the exit event tells what happened
        this.exited = true;
        take([{ level: 9, text: `cannot start ${spec.binary}: ${err.message}` }]);
        settle('ERROR');
      });
      child.once('exit', (code) => {
        this.exited = true;
        if (this.graceTimer) clearTimeout(this.graceTimer);
        this.signal('SIGKILL');
        const state = this.stopReason ?? (code === 0 ? 'SUCCESS' : 'ERROR');
        const drain = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          settle(state);
        }, DRAIN_MS);
        child.once('close', () => {
          clearTimeout(drain);
          settle(state);
        });
      });
    });
  }
}

function missingDirectory(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `working directory ${dir} is not a directory`;
  } catch {
    return `working directory ${dir} does not exist`;
  }
}
