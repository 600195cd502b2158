// Small helpers shared by the benchmarks: timing, bounded waiting, statistics, temp dirs and
// bounded command runs. Every wait here has a deadline so a stuck peer cannot hang a bench run.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value; throws after `timeoutMs` naming `what`. */
export async function waitUntil(check, { timeoutMs, intervalMs = 100, what }) {
  const deadline = performance.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      // A peer that is still starting refuses connections; only the deadline decides.
      last = err;
    }
    if (performance.now() > deadline) {
      const detail = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** Runs a command to completion with a hard time limit; never rejects on a non-zero exit. */
export function run(cmd, args, { timeoutMs = 30_000, env, cwd, maxBuffer = 64 * 1024 * 1024 } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', env, cwd, maxBuffer }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, killed: Boolean(err?.killed), stdout, stderr });
    });
  });
}

/** Asks the kernel for a free loopback port; the tiny race until the peer binds it is acceptable. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function makeTempDir(prefix) {
  return mkdtempSync(join(tmpdir(), `cox-bench-${prefix}-`));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest-rank: the reported value is always one that was actually measured.
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export const median = (values) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const round = (x, digits = 2) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));

/** True when the module at `url` is the script node was started with. */
export const isMain = (url) => process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href;

/** Races `promise` against a time limit: the limit is what turns a hang into a reported failure. */
export async function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}
