/**
 * Starts one named process: output files truncated, stdin from /dev/null, the leader of its own
 * process group (so cancel reaches its children too), the agent's environment plus the spec's.
 * Its output goes straight to the files, not through the agent, so it keeps running — and its
 * writes keep landing — when the agent is killed or restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import os from 'node:os';
import { EXIT_NOT_STARTED, type ProcessSpec } from '../../protocol/process.js';
import { signalGroup } from '../../shared/proc.js';

/** How a process ended: its exit code (`-N` for signal N), and a word on why when not plain. */
export type OnEnd = (exitCode: number, reason: string) => void;

/**
 * Answers the pid, or null when it could not start; `onEnd` is called once either way, never
 * before this returns. When the leader exits, what is left of its group is killed: once the
 * leader is gone nothing would signal the group any more, so leftovers would escape cancel.
 */
export function launch(spec: ProcessSpec, onEnd: OnEnd): number | null {
  const notStarted = (why: string) => {
    queueMicrotask(() => onEnd(EXIT_NOT_STARTED, why));
    return null;
  };
  const dir = directoryProblem(spec.work_dir);
  if (dir) return notStarted(dir);
  const fds: number[] = [];
  let child: ChildProcess;
  try {
    for (const file of new Set([spec.stdout, spec.stderr])) {
      try {
        fds.push(openSync(file, 'w', 0o644));
      } catch (err) {
        return notStarted(`cannot open ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    const [out, err = out] = fds as [number, number?];
    child = spawn(spec.args[0]!, spec.args.slice(1), { cwd: spec.work_dir, env: { ...process.env, ...spec.env }, stdio: ['ignore', out, err], detached: true });
  } catch (err) {
    return notStarted(`cannot start ${spec.args[0]}: ${(err as Error).message}`);
  } finally {
    // The child holds its own copies now.
    for (const fd of fds) closeSync(fd);
  }
  const pid = child.pid;
  // Without a pid the spawn failed (ENOENT, EACCES) and `error` says why; with one, `exit` tells.
  child.once('error', (err) => pid === undefined && onEnd(EXIT_NOT_STARTED, `cannot start ${spec.args[0]}: ${err.message}`));
  if (pid === undefined) return null;
  child.once('exit', (code, signal) => {
    signalGroup(pid, 'SIGKILL');
    onEnd(code ?? -(signal ? os.constants.signals[signal] : 0), signal ? `killed by ${signal}` : '');
  });
  return pid;
}

function directoryProblem(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `work_dir ${dir} is not a directory`;
  } catch {
    return `work_dir ${dir} does not exist`;
  }
}
