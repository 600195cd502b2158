/**
 * One native child: spawned as the leader of its own process group, with stdout and stderr
 * written by the child itself straight into its log file. Because the child holds the file and
 * not a pipe to us, it keeps running and logging if the host manager dies, which is what lets a
 * restarted host manager re-attach to it.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { signalGroup } from '../../shared/proc.js';
import type { LaunchSpec } from '../../site-config/types.js';

export interface NativeProcessEvents {
  onSpawn(pid: number): void;
  onExit(code: number | null, signal: string | null): void;
  /** The launch failed before a process existed. `recoverable` is false when retrying cannot help. */
  onSpawnError(message: string, recoverable: boolean): void;
}

export function logFileFor(logDir: string, instanceId: string): string {
  return join(logDir, `${instanceId}.log`);
}

export class NativeProcess {
  private pid: number | null = null;
  private alive = false;

  constructor(
    readonly instanceId: string,
    private readonly launch: LaunchSpec,
    private readonly logDir: string,
    private readonly events: NativeProcessEvents,
    /** Extra environment that marks the process as ours, so a restarted host manager finds it. */
    private readonly marker: Record<string, string> = {},
  ) {}

  /**
   * Launches the child. A relaunch after a crash is on the critical path, so it does the least
   * before `spawn`: no directory checks unless something failed, and bookkeeping after.
   */
  start(): void {
    const [command, ...args] = this.launch.argv;
    if (command === undefined) {
      queueMicrotask(() => this.events.onSpawnError('empty command', false));
      return;
    }
    let fd: number;
    try {
      fd = openLog(this.logDir, logFileFor(this.logDir, this.instanceId));
    } catch (err) {
      const message = `cannot open log file in ${this.logDir}: ${(err as Error).message}`;
      queueMicrotask(() => this.events.onSpawnError(message, true));
      return;
    }
    try {
      writeSync(fd, `--- coxswain ${new Date().toISOString()} launching: ${this.launch.argv.join(' ')}\n`);
      const child = spawn(command!, args, {
        cwd: this.launch.cwd,
        env: { ...process.env, ...this.launch.env, ...this.marker, COX_INSTANCE_ID: this.instanceId },
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      child.once('spawn', () => {
        this.pid = child.pid ?? null;
        this.alive = true;
        this.events.onSpawn(child.pid!);
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (this.alive) return; // errors after spawn (e.g. a failed kill) surface as exit events
        // A missing cwd also fails as ENOENT, naming the command: say what is really missing.
        const cwdProblem = err.code === 'ENOENT' ? missingDirectory(this.launch.cwd) : null;
        const recoverable = err.code !== 'ENOENT' && err.code !== 'EACCES';
        this.events.onSpawnError(cwdProblem ?? `${command}: ${err.message}`, recoverable);
      });
      child.once('exit', (code, signal) => {
        this.alive = false;
        const pgid = this.pid;
        this.events.onExit(code, signal);
        // Grandchildren left in the group would outlive their parent and hold its resources.
        // Killed after reporting, so a relaunch is not held up by it; the new child has its own group.
        if (pgid !== null) signalGroup(pgid, 'SIGKILL');
      });
    } finally {
      closeSync(fd);
    }
  }

  /** Signals the whole process group; a no-op once the group is gone. */
  signalGroup(signal: NodeJS.Signals): void {
    if (this.pid !== null) signalGroup(this.pid, signal);
  }

  get running(): boolean {
    return this.alive;
  }
}

function openLog(dir: string, file: string): number {
  try {
    return openSync(file, 'a');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dir, { recursive: true });
    return openSync(file, 'a');
  }
}

function missingDirectory(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `working directory ${dir} is not a directory`;
  } catch {
    return `working directory ${dir} does not exist`;
  }
}
