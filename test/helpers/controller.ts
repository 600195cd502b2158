/**
 * Runs the real `cox controller` (the built dist/) on a loopback port with its SQLite file in a
 * temporary directory, and restarts it on the same file, as an operator would after a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COX } from './daemon.js';

export interface ControllerProcess {
  url: string;
  dir: string;
  db: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Sends `signal` and waits for the exit; the directory stays for a restart. */
  kill: (signal: NodeJS.Signals) => Promise<number | null>;
  /** SIGTERM (if running) and removes the directory. */
  stop: () => Promise<number | null>;
}

/** `dir` reuses a previous controller's directory (and so its database). */
export async function startController(args: string[] = [], dir = mkdtempSync(join(tmpdir(), 'cox-ctl-'))): Promise<ControllerProcess> {
  const db = join(dir, 'controller.db');
  const proc = spawn(process.execPath, [COX, 'controller', '--port', '0', '--db', db, '--script-dir', join(dir, 'scripts'), ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`controller did not start:\n${out}`)), 10_000);
    const check = () => {
      const m = /"url":"(https?:\/\/[^"]+)".*"msg":"controller listening"/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', check);
      resolve(m[1]!);
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`controller exited with ${code}:\n${out}`));
    });
  });
  const kill = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return exited;
  };
  const stop = async () => {
    const code = await kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  return { url, dir, db, proc, output: () => out, exited, kill, stop };
}
