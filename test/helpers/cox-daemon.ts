/** Starts a real `cox` daemon (the built dist/) and waits for the log line that names its URL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const COX = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CoxDaemon {
  url: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Sends `signal` unless it already exited, and waits for the exit. */
  kill: (signal: NodeJS.Signals) => Promise<number | null>;
}

/** `listening` is the `msg` of the daemon's log line that carries `"url"`; `env` is added to ours. */
export async function spawnCoxDaemon(args: string[], cwd: string, listening: string, env: NodeJS.ProcessEnv = {}): Promise<CoxDaemon> {
  const proc = spawn(process.execPath, [COX, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const pattern = new RegExp(`"url":"(https?://[^"]+)".*"msg":"${listening}"`);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${listening}: not within 10 s:\n${out}`)), 10_000);
    const check = () => {
      const m = pattern.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', check);
      resolve(m[1]!);
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${listening}":\n${out}`));
    });
  });
  const kill = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return exited;
  };
  return { url, proc, output: () => out, exited, kill };
}
