/**
 * Starts one native child: the leader of its own process group, with stdout and stderr written by
 * the child itself straight into its log file. Because the child holds the file and not a pipe to
 * us, it keeps running and logging if the host manager dies, which is what lets a restarted host
 * manager re-attach to it. Runs inside the launcher process, so it imports nothing but node:.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';

export interface SpawnSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  logDir: string;
  logFile: string;
}

export interface SpawnEvents {
  spawned(pid: number): void;
  /** No process exists. `recoverable` is false when retrying cannot help. */
  failed(message: string, recoverable: boolean): void;
  exited(code: number | null, signal: string | null): void;
}

/** Read once: copying process.env (a native property interceptor) cost ~0.3 ms per launch. */
let inherited: NodeJS.ProcessEnv | null = null;

/** Does the least it can before `spawn`, which is on the critical path of a relaunch. */
export function spawnChild(spec: SpawnSpec, events: SpawnEvents): void {
  const [command, ...args] = spec.argv;
  if (command === undefined) return events.failed('empty command', false);
  let fd: number;
  try {
    fd = openLog(spec.logDir, spec.logFile);
  } catch (err) {
    return events.failed(`cannot open log file in ${spec.logDir}: ${(err as Error).message}`, true);
  }
  let started = false;
  try {
    writeSync(fd, `--- coxswain ${new Date().toISOString()} launching: ${spec.argv.join(' ')}\n`);
    inherited ??= { ...process.env };
    const child = spawn(command, args, { cwd: spec.cwd, env: { ...inherited, ...spec.env }, stdio: ['ignore', fd, fd], detached: true });
    child.once('spawn', () => {
      started = true;
      events.spawned(child.pid!);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (started) return; // errors after spawn (e.g. a failed kill) surface as exit events
      // A missing cwd also fails as ENOENT, naming the command: say what is really missing.
      const cwdProblem = err.code === 'ENOENT' ? missingDirectory(spec.cwd) : null;
      events.failed(cwdProblem ?? `${command}: ${err.message}`, err.code !== 'ENOENT' && err.code !== 'EACCES');
    });
    child.once('exit', (code, signal) => events.exited(code, signal));
  } finally {
    closeSync(fd);
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
