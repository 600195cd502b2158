/**
 * The docker compose command line: v2 (`docker compose`) when the docker CLI has it, else v1
 * (`docker-compose`), or whatever `--docker-compose-bin` names. Every run is bounded by an abort
 * signal and a deadline, so a stuck compose (a pull with no network) fails instead of hanging.
 */
import { spawn } from 'node:child_process';
import { basename, dirname } from 'node:path';

export interface ComposeCommand {
  argv: string[];
  /** What `version --short` printed, e.g. `1.29.2` or `2.27.0`. */
  version: string;
}

export interface ComposeTarget {
  composeFile: string;
  project: string;
}

const DETECT_TIMEOUT_MS = 10_000;
export const COMPOSE_TIMEOUT_MS = 120_000;
const KILL_AFTER_MS = 2_000;

/** The argv a `--docker-compose-bin` value stands for: `docker` means its `compose` subcommand. */
export function composeArgv(bin: string): string[] {
  const argv = bin.trim().split(/\s+/);
  return argv.length === 1 && basename(argv[0]!) === 'docker' ? [argv[0]!, 'compose'] : argv;
}

export async function detectCompose(bin?: string): Promise<ComposeCommand> {
  const candidates = bin ? [composeArgv(bin)] : [['docker', 'compose'], ['docker-compose']];
  const tried: string[] = [];
  for (const argv of candidates) {
    const r = await runArgv([...argv, 'version', '--short'], { timeoutMs: DETECT_TIMEOUT_MS });
    if (r.code === 0) return { argv, version: r.output.trim().split('\n').pop() ?? '' };
    tried.push(`"${argv.join(' ')}" (${r.code === null ? r.output : `exit ${r.code}`})`);
  }
  throw new ComposeNotFoundError(`no docker compose found: tried ${tried.join(', ')}; install one or pass --docker-compose-bin`);
}

/** No compose binary to run: retrying soon will not help, unlike a failed `compose up`. */
export class ComposeNotFoundError extends Error {}

export class ComposeCli {
  private detected: Promise<ComposeCommand> | null = null;

  constructor(private readonly bin?: string) {}

  /** Detected once; a failure is not remembered, so installing compose later is picked up. */
  command(): Promise<ComposeCommand> {
    this.detected ??= detectCompose(this.bin).catch((err: unknown) => {
      this.detected = null;
      throw err;
    });
    return this.detected;
  }

  /** `compose -p P -f F <args>`; resolves with its output, rejects with the end of it. */
  async run(target: ComposeTarget, args: string[], opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string> {
    const { argv } = await this.command();
    const full = [...argv, '-p', target.project, '-f', target.composeFile, ...args];
    const r = await runArgv(full, { cwd: dirname(target.composeFile), timeoutMs: opts.timeoutMs ?? COMPOSE_TIMEOUT_MS, signal: opts.signal });
    if (r.code === 0) return r.output;
    const what = `${[...argv, ...args].join(' ')} (${basename(target.composeFile)})`;
    throw new Error(`${what} ${r.code === null ? r.output : `failed with exit code ${r.code}: ${tail(r.output)}`}`);
  }
}

/** Last lines of compose's output, where it says what went wrong. */
function tail(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return [...new Set(lines.slice(-3))].join(' / ') || 'no output';
}

/** `code` is null when the command could not run, timed out or was aborted; `output` then says which. */
function runArgv(argv: string[], opts: { cwd?: string; timeoutMs: number; signal?: AbortSignal | undefined }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    let why: string | null = null;
    // Its own process group, so stopping it also stops whatever it started.
    const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const collect = (d: Buffer) => (output = (output + d.toString()).slice(-8192));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const stop = (reason: string) => {
      why ??= reason;
      signalGroup(child.pid, 'SIGTERM');
      setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_AFTER_MS).unref();
    };
    const seconds = (opts.timeoutMs / 1000).toFixed(opts.timeoutMs < 10_000 ? 1 : 0);
    const timer = setTimeout(() => stop(`timed out after ${seconds} s`), opts.timeoutMs);
    const onAbort = () => stop('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    const done = (code: number | null, error?: string) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(why || error ? { code: null, output: why ?? error ?? '' } : { code, output });
    };
    child.once('error', (err) => done(null, err.message));
    child.once('close', (code) => done(code));
  });
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
