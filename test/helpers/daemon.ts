/**
 * Runs the real `cox hostmanager` (the built dist/) on a temporary SCF, listening on a free
 * loopback port, and tears it down after the test. Children are fixture scripts.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './instances.js';

import { spawnCoxDaemon } from './cox-daemon.js';

export { COX } from './cox-daemon.js';

export interface Daemon {
  url: string;
  dir: string;
  scf: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<number | null>;
}

/** An SCF for host `testhost` whose instances run fixture scripts with node. */
export function scfText(instances: string[], hmArgs: string[] = []): string {
  return [
    'hub: {address_root: observatory}',
    'agent-classes:',
    `  Sleeper: {command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FIXTURES + 'sleeper.mjs')}]}`,
    'hosts:',
    '  testhost:',
    '    log-dir: logs',
    '    agent-instances:',
    `      - {agent-class: HostManager, instance-id: hm-test, arguments: ${JSON.stringify(hmArgs)}}`,
    ...instances.map((i) => `      - ${i}`),
    '',
  ].join('\n');
}

export function sleepers(ids: string[], manage = 'host/up'): string[] {
  return ids.map((id) => `{agent-class: Sleeper, instance-id: ${id}, manage: ${manage}}`);
}

export async function startDaemon(scf: string, args: string[] = []): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'cox-hm-'));
  writeFileSync(join(dir, 'site.yaml'), scf);
  return startDaemonIn(dir, args);
}

/** Starts a host manager on `<dir>/site.yaml` with state in `<dir>/state`, e.g. again after a crash. */
export async function startDaemonIn(dir: string, args: string[] = []): Promise<Daemon> {
  const file = join(dir, 'site.yaml');
  const daemonArgs = ['hostmanager', '--site-file', file, '--site-host', 'testhost', '--port', '0', '--state-dir', join(dir, 'state'), ...args];
  const { url, proc, output, exited, kill } = await spawnCoxDaemon(daemonArgs, dir, 'host manager listening');
  const stop = async () => {
    const code = await kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  return { url, dir, scf: file, proc, output, exited, stop };
}

export async function api<T = any>(d: { url: string }, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(new URL(path, d.url), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** What OCS's HTTP client sends: the call as JSON, no Content-Type header. */
export async function ocsCall(d: { url: string }, procedure: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(new URL('/call', d.url), {
    method: 'POST',
    body: new Blob([JSON.stringify({ procedure, args, kwargs })]),
  });
  if (res.status !== 200) throw new Error(`bridge answered HTTP ${res.status}`);
  return res.json();
}
