/** A real `cox hostmanager` with compose files, and the views of it the docker suites assert on. */
import { writeFileSync } from 'node:fs';
import { api, scfText, startDaemon, type Daemon } from './daemon.js';
import { waitUntil } from './wait.js';

/** An SCF entry for a docker instance; its service is `ocs-<id>`. */
export const dockerEntry = (id: string, manage = 'docker/up') => `{agent-class: Dock, instance-id: ${id}, manage: ${manage}, stop-timeout: 3}`;

export function startDockerDaemon(ids: string[], composeFiles: string[], extraArgs: string[] = []): Promise<Daemon> {
  return startDaemon(scfText(ids.map((id) => dockerEntry(id))), ['--docker-compose', composeFiles.join(','), ...extraArgs]);
}

export function writeScf(d: Daemon, ids: string[]): void {
  writeFileSync(d.scf, scfText(ids.map((id) => dockerEntry(id))));
}

export type Rows = Record<string, any>;

export async function rows(d: Daemon): Promise<Rows> {
  const { json } = await api(d, 'GET', '/api/children');
  return Object.fromEntries(json.children.map((c: any) => [c.instance_id, c]));
}

/** The `manager` session's data: child_states, config_parse_status, orphans, new_tags. */
export async function managerData(d: Daemon): Promise<any> {
  const { json } = await api(d, 'GET', '/api/ops/manager');
  return json.session.data;
}

/** Waits until `until(rows)` holds; returns the rows and how long it took. */
export async function waitRows(d: Daemon, until: (r: Rows) => boolean, what: string, timeoutMs = 20_000): Promise<{ r: Rows; ms: number }> {
  const began = Date.now();
  const r = await waitUntil(async () => {
    const now = await rows(d);
    return until(now) ? now : null;
  }, timeoutMs, what);
  return { r, ms: Date.now() - began };
}

export const isUp = (r: Rows, ...ids: string[]) => ids.every((id) => r[id]?.next_action === 'up');

/** Starts a task over the REST API and waits for it to end; returns its final session. */
export async function runTask(d: Daemon, op: string, params: unknown = {}): Promise<any> {
  const started = await api(d, 'POST', `/api/ops/${op}/start`, params);
  if (started.json.code !== 0) throw new Error(`${op} not started: ${started.json.message}`);
  const { json } = await api(d, 'POST', `/api/ops/${op}/wait`, { timeout: 60 });
  return json.session;
}
