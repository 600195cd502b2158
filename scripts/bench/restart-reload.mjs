// Issue 4's figures: how long the host manager takes to re-read a 200-instance SCF, and to come
// back after a SIGKILL with 20 native children re-attached. No peer does either, so these are
// absolute figures, not ratios.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COX_ROOT } from './lib/coxswain.mjs';
import { killTagged, newTag, tagEnv } from './lib/procfs.mjs';
import { freePort, isMain, makeTempDir, median, removeDir, round, sleep, waitUntil } from './lib/util.mjs';

const MAIN = join(COX_ROOT, 'dist/cli/main.js');
const ROUNDS = 10;

function scf(dir, ids, manage) {
  const instances = ids.map((id) => ({ 'agent-class': 'Bench', 'instance-id': id, manage, command: ['/bin/sleep', '1000000'] }));
  return JSON.stringify({ hosts: { localhost: { 'log-dir': join(dir, 'logs'), 'agent-instances': [{ 'agent-class': 'HostManager', 'instance-id': 'hm' }, ...instances] } } });
}

async function start(dir, tag, port) {
  const out = openSync(join(dir, 'daemon.log'), 'a');
  const args = [MAIN, 'hostmanager', '--site-file', join(dir, 'site.yaml'), '--site-host', 'localhost', '--port', String(port), '--state-dir', join(dir, 'state')];
  const child = spawn(process.execPath, args, { cwd: dir, env: tagEnv(tag), stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, exited };
}

function client(port) {
  return async (method, path, body) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    return res.json();
  };
}

async function reload200() {
  const dir = makeTempDir('reload');
  const tag = newTag('reload');
  const port = await freePort();
  const ids = Array.from({ length: 200 }, (_, i) => `i${i}`);
  writeFileSync(join(dir, 'site.yaml'), scf(dir, ids, 'host/down'));
  const { child, exited } = await start(dir, tag, port);
  const api = client(port);
  try {
    await waitUntil(async () => (await api('GET', '/api/children')).children.length === 200, { timeoutMs: 30_000, what: '200 children listed' });
    const task = [];
    for (let i = 0; i < ROUNDS; i++) {
      await api('POST', '/api/ops/update/start', { reload_config: true });
      const { session } = await api('POST', '/api/ops/update/wait', { timeout: 10 });
      task.push((session.end_time - session.start_time) * 1000);
    }
    const edit = [];
    for (let i = 0; i < ROUNDS; i++) {
      const extra = `x${i}`;
      writeFileSync(join(dir, 'site.yaml'), scf(dir, [...ids, extra], 'host/down'));
      const t0 = performance.now();
      await waitUntil(async () => (await api('GET', '/api/children')).children.some((c) => c.instance_id === extra), { timeoutMs: 5_000, intervalMs: 5, what: `${extra} added` });
      edit.push(performance.now() - t0);
      await sleep(300);
    }
    return { instances: 200, update_reload_ms: round(median(task)), file_edit_to_applied_ms: round(median(edit)), rounds: ROUNDS };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    killTagged(tag);
    removeDir(dir);
  }
}

async function reattach20() {
  const dir = makeTempDir('reattach');
  const tag = newTag('reattach');
  const ids = Array.from({ length: 20 }, (_, i) => `n${i}`);
  writeFileSync(join(dir, 'site.yaml'), scf(dir, ids, 'host/up'));
  const allUp = async (api) => (await api('GET', '/api/children')).children.filter((c) => c.next_action === 'up');
  const totals = [];
  const answers = [];
  let running = await start(dir, tag, await freePort());
  try {
    for (let i = 0; i < 5; i++) {
      running.child.kill('SIGKILL');
      await running.exited;
      const port = await freePort();
      const t0 = performance.now();
      running = await start(dir, tag, port);
      const api = client(port);
      await waitUntil(() => api('GET', '/api/health'), { timeoutMs: 15_000, intervalMs: 5, what: 'API' });
      answers.push(performance.now() - t0);
      const up = await waitUntil(async () => ((await allUp(api)).length === 20 ? allUp(api) : null), { timeoutMs: 15_000, intervalMs: 5, what: '20 up' });
      totals.push(performance.now() - t0);
      if (i > 0 && !up.every((c) => c.reason.startsWith('re-attached'))) throw new Error('a child was relaunched instead of re-attached');
    }
    // The first round launched the children; the others re-attached them.
    return { children: 20, start_to_all_up_ms: round(median(totals.slice(1))), start_to_api_ms: round(median(answers.slice(1))), rounds: 4 };
  } finally {
    running.child.kill('SIGTERM');
    await Promise.race([running.exited, sleep(10_000)]);
    killTagged(tag);
    removeDir(dir);
  }
}

export async function main() {
  return { reload: await reload200(), reattach: await reattach20() };
}

if (isMain(import.meta.url)) console.log(JSON.stringify(await main(), null, 1));
