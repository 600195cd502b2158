/**
 * Real Docker Engine helpers for the *.docker.test.ts suites: a compose project per test (a temp
 * directory, so its name is unique), compose files on the local test image, cleanup by label, a
 * lock that runs the docker suites one at a time (one of them restarts dockerd), and dockerd
 * restarts through scripts/setup-docker.sh.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { normalizeProjectName } from '../../src/hostmanager/docker/compose-file.js';
import { isAlive } from './wait.js';

export const docker = new Docker();
export const TEST_IMAGE = 'coxswain-test:latest';
/** On every container the tests create, so a crashed run's leftovers can be found too. */
export const TEST_LABEL = 'coxswain.test';
const SETUP = fileURLToPath(new URL('../../scripts/setup-docker.sh', import.meta.url));
const run = promisify(execFile);

/** Fails with what to do when no engine answers; COX_SKIP_DOCKER=1 skips the docker suites instead. */
export async function engineOrSkip(): Promise<boolean> {
  if (process.env.COX_SKIP_DOCKER === '1') return false;
  try {
    await docker.ping();
    return true;
  } catch (err) {
    throw new Error(`no Docker Engine (${(err as Error).message}): run scripts/setup-docker.sh, or set COX_SKIP_DOCKER=1`);
  }
}

export interface Project {
  dir: string;
  name: string;
  /** Writes `<dir>/<file>` (default docker-compose.yaml) with one service per name; returns its path. */
  write(services: string[], opts?: { file?: string; image?: string }): string;
  cleanup(): Promise<void>;
}

export function project(): Project {
  const dir = mkdtempSync(join(tmpdir(), 'cox-dk-'));
  const name = normalizeProjectName(dir.split('/').pop()!);
  return {
    dir,
    name,
    write(services, { file = 'docker-compose.yaml', image = TEST_IMAGE } = {}) {
      const path = join(dir, file);
      writeFileSync(path, composeText(services, image));
      return path;
    },
    async cleanup() {
      await removeContainers(`com.docker.compose.project=${name}`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function composeText(services: string[], image = TEST_IMAGE): string {
  const lines = ['services:'];
  for (const s of services) {
    lines.push(`  ${s}:`, `    image: ${image}`, '    network_mode: none', '    stop_grace_period: 2s', `    labels: [${TEST_LABEL}=1]`);
  }
  return `${lines.join('\n')}\n`;
}

export async function removeContainers(label: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

/** The containers of a compose service (any config file), as the engine reports them now. */
export async function containersOf(projectName: string, service: string) {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${projectName}`, `com.docker.compose.service=${service}`] },
  });
  return Promise.all(
    list.map(async (c) => {
      const i = await docker.getContainer(c.Id).inspect();
      return { id: i.Id, name: i.Name.slice(1), running: i.State.Running, startedAt: i.State.StartedAt, configFiles: i.Config.Labels['com.docker.compose.project.config_files'] };
    }),
  );
}

/** Runs compose v1/v2 (whichever the host manager would pick) as an operator would. */
export async function composeCli(args: string[], cwd: string): Promise<string> {
  const v2 = await run('docker', ['compose', 'version']).then(() => true, () => false);
  const [cmd, ...pre] = v2 ? ['docker', 'compose'] : ['docker-compose'];
  const { stdout, stderr } = await run(cmd!, [...pre, ...args], { cwd });
  return stdout + stderr;
}

export async function dockerCli(args: string[]): Promise<string> {
  return (await run('docker', args)).stdout.trim();
}

/** SIGTERMs dockerd (live-restore keeps containers running) and starts it again with the setup script. */
export async function restartDockerd(whileDown?: () => Promise<void>): Promise<void> {
  const pid = Number(readFileSync('/var/run/docker.pid', 'utf8'));
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await whileDown?.();
  await run(SETUP, [], { timeout: 60_000 });
}

const LOCK = join(tmpdir(), 'coxswain-docker-tests.lock');

/**
 * Runs the docker suites one at a time across vitest workers: one restarts dockerd, and all of
 * them share two cores with the engine. A lock left by a dead worker is taken over, and the
 * containers it left are removed.
 */
export async function lockEngine(timeoutMs = 240_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      // No other docker suite runs now: any test container left is a crashed run's.
      await removeContainers(TEST_LABEL);
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (stale()) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`docker test lock ${LOCK} still held after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Held by a worker that died, or left half-made (no pid yet) for longer than making it takes. */
function stale(): boolean {
  try {
    const owner = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    return owner !== process.pid && !isAlive(owner);
  } catch {
    try {
      return Date.now() - statSync(LOCK).mtimeMs > 5_000;
    } catch {
      return false;
    }
  }
}

/** Holds the engine lock for the whole test file that calls it (one docker suite at a time). */
export function holdEngineLock(): void {
  let unlock: () => void = () => {};
  beforeAll(async () => {
    unlock = await lockEngine();
  }, 250_000);
  afterAll(() => unlock());
}
