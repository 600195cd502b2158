/**
 * Runs the real `cox controller` (the built dist/) on a loopback port with its SQLite file in a
 * temporary directory, and restarts it on the same file, as an operator would after a crash.
 * Given `--redis` in `args`, it keeps its jobs there instead and gets no `--db`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCoxDaemon } from './cox-daemon.js';

export interface ControllerProcess {
  url: string;
  dir: string;
  /** Unset when the store is Redis. */
  db?: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Sends `signal` and waits for the exit; the directory stays for a restart. */
  kill: (signal: NodeJS.Signals) => Promise<number | null>;
  /** SIGTERM (if running) and removes the directory. */
  stop: () => Promise<number | null>;
}

/** `dir` reuses a previous controller's directory (and so its database); `env` is added to ours. */
export async function startController(args: string[] = [], dir = mkdtempSync(join(tmpdir(), 'cox-ctl-')), env: NodeJS.ProcessEnv = {}): Promise<ControllerProcess> {
  const db = args.includes('--redis') ? undefined : join(dir, 'controller.db');
  const daemonArgs = ['controller', '--port', '0', ...(db ? ['--db', db] : []), '--script-dir', join(dir, 'scripts'), ...args];
  const { url, proc, output, exited, kill } = await spawnCoxDaemon(daemonArgs, dir, 'controller listening', env);
  const stop = async () => {
    const code = await kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  return { url, dir, db, proc, output, exited, kill, stop };
}
