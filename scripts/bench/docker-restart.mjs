#!/usr/bin/env node
// Container killed → running again: coxswain (a `manage: docker` child, relaunched on the engine's
// `die` event) side by side with Docker's own `restart: always` policy, same image, one run.
//
// Each kill is a SIGKILL to the container's init process from the host: a crash, which both
// restart. (`docker kill` counts as a manual stop, which Docker's policy never restarts.) Times
// are the engine's own: its `die` event to its next `start` event for that container. Docker's
// policy waits longer after each restart (100 ms, doubled, reset only after 10 s up), so each of
// its samples is a fresh container's first restart, the figure the target is set against.
// coxswain's child runs longer than its stable-after (1 s) before each kill, so each is a
// one-off crash relaunched at once. The samples alternate between the two. Detection lag is
// what the host manager logs on seeing a death: its clock minus the event's time.
//
//   node scripts/bench/docker-restart.mjs        (BENCH_DOCKER_KILLS=n to change the 15 kills)
import { spawn, execFileSync } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { COX_ROOT } from './lib/coxswain.mjs';
import { freePort, isMain, makeTempDir, median, percentile, removeDir, round, sleep, waitUntil, withTimeout } from './lib/util.mjs';

const IMAGE = 'coxswain-test:latest';
const LABEL = 'coxswain.bench';
const RUN_BEFORE_KILL_MS = 1500;
const RESTART_TIMEOUT_MS = 10_000;
const docker = new Docker();

/** die → start times (engine clock) per container id, from the events stream. */
async function watchEvents() {
  const stream = await docker.getEvents({ filters: { type: ['container'], event: ['die', 'start'], label: [LABEL] } });
  const waiters = [];
  let rest = '';
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines.filter(Boolean)) {
      const e = JSON.parse(line);
      for (const w of [...waiters]) w(e);
    }
  });
  /** Resolves with the time (ms, engine clock) of the next `action` event that `match`es. */
  const next = (match, action, what) =>
    withTimeout(new Promise((resolve) => {
      const w = (e) => {
        if (e.Action !== action || !match(e)) return;
        waiters.splice(waiters.indexOf(w), 1);
        resolve(e.timeNano / 1e6);
      };
      waiters.push(w);
    }), RESTART_TIMEOUT_MS, `${action} of ${what}`);
  return { next, close: () => stream.destroy() };
}

/**
 * Kills the container's init process and times die → start (and kill → start). `again` says which
 * start counts: the same container for Docker's policy, any of the service's for coxswain.
 */
async function killOnce(events, id, again = (e) => e.id === id) {
  const { State } = await docker.getContainer(id).inspect();
  // Pid 0 would signal our own process group.
  if (!State.Running || !(State.Pid > 0)) throw new Error(`container ${id.slice(0, 12)} is not running`);
  const died = events.next((e) => e.id === id, 'die', id.slice(0, 12));
  const started = events.next(again, 'start', id.slice(0, 12));
  const killedAt = Date.now();
  process.kill(State.Pid, 'SIGKILL');
  const [dieAt, startAt] = await Promise.all([died, started]);
  return { dieAt, restart_ms: startAt - dieAt, kill_to_running_ms: startAt - killedAt };
}

async function startCoxswain(dir) {
  const compose = join(dir, 'docker-compose.yaml');
  writeFileSync(compose, `services:\n  ocs-bench:\n    image: ${IMAGE}\n    network_mode: none\n    labels: [${LABEL}=1]\n`);
  const scf = join(dir, 'site.yaml');
  const entry = { 'agent-class': 'Bench', 'instance-id': 'bench', manage: 'docker/up', 'stop-timeout': 3, restart: { 'stable-after': 1 } };
  writeFileSync(scf, JSON.stringify({ hosts: { localhost: { 'log-dir': join(dir, 'logs'), 'agent-instances': [{ 'agent-class': 'HostManager', 'instance-id': 'hm' }, entry] } } }));
  const port = await freePort();
  const log = join(dir, 'daemon.log');
  const out = openSync(log, 'a');
  const args = ['hostmanager', '--site-file', scf, '--site-host', 'localhost', '--port', String(port), '--state-dir', join(dir, 'state'), '--docker-compose', compose];
  const child = spawn(process.execPath, [join(COX_ROOT, 'dist/cli/main.js'), ...args], { cwd: dir, stdio: ['ignore', out, out] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const container = () =>
    waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`coxswain exited; see ${log}`);
      const res = await fetch(`http://127.0.0.1:${port}/api/children/bench`);
      const row = res.ok ? await res.json() : null;
      if (row?.next_action !== 'up') return null;
      const [c] = await docker.listContainers({ filters: { label: [LABEL, 'com.docker.compose.service=ocs-bench'] } });
      return c?.Id;
    }, { timeoutMs: 60_000, what: 'the coxswain child up' });
  await container();
  /** Detection lag (ms) the daemon logged for the death whose event was at `dieAt`. */
  const lagFor = async (dieAt) =>
    waitUntil(() => {
      const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"container died"'));
      const hit = lines.map((l) => JSON.parse(l)).find((e) => Math.abs(e.event_at - dieAt) < 1);
      return hit?.lag_ms;
    }, { timeoutMs: 5_000, intervalMs: 20, what: 'the death in the coxswain log' });
  const close = async () => {
    child.kill('SIGTERM');
    await withTimeout(exited, 30_000, 'coxswain shutdown').catch(() => child.kill('SIGKILL'));
  };
  return { container, lagFor, close };
}

async function freshPolicyContainer() {
  const c = await docker.createContainer({ Image: IMAGE, Labels: { [LABEL]: '1' }, HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'always' } } });
  await c.start();
  return c.id;
}

async function removeBenchContainers() {
  for (const c of await docker.listContainers({ all: true, filters: { label: [LABEL] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
}

const stats = (xs) => ({ median_ms: round(median(xs)), p90_ms: round(percentile(xs, 90)), min_ms: round(Math.min(...xs)), max_ms: round(Math.max(...xs)) });

export async function runDockerRestart({ kills = Number(process.env.BENCH_DOCKER_KILLS ?? 15) } = {}) {
  execFileSync(fileURLToPath(new URL('../setup-docker.sh', import.meta.url)), { stdio: ['ignore', 'ignore', 'inherit'] });
  const dir = makeTempDir('docker-restart');
  const events = await watchEvents();
  let cox = null;
  const samples = { coxswain: [], policy: [] };
  const lags = [];
  try {
    await removeBenchContainers();
    cox = await startCoxswain(dir);
    for (let i = 0; i < kills; i++) {
      const id = await freshPolicyContainer();
      await sleep(RUN_BEFORE_KILL_MS);
      samples.policy.push(await killOnce(events, id));
      await docker.getContainer(id).remove({ force: true });
      const mine = await killOnce(events, await cox.container(), (e) => e.Actor.Attributes['com.docker.compose.service'] === 'ocs-bench');
      samples.coxswain.push(mine);
      lags.push(await cox.lagFor(mine.dieAt));
    }
  } finally {
    events.close();
    await cox?.close();
    await removeBenchContainers();
    removeDir(dir);
  }
  const col = (xs, key) => xs.map((s) => round(s[key], 1));
  const coxswain = { ...stats(col(samples.coxswain, 'restart_ms')), kill_to_running: stats(col(samples.coxswain, 'kill_to_running_ms')), samples_ms: col(samples.coxswain, 'restart_ms') };
  const policy = { ...stats(col(samples.policy, 'restart_ms')), kill_to_running: stats(col(samples.policy, 'kill_to_running_ms')), samples_ms: col(samples.policy, 'restart_ms') };
  const ratio = round(coxswain.median_ms / policy.median_ms);
  const detection = { ...stats(lags), samples_ms: lags.map((x) => round(x, 2)) };
  return {
    settings: { kills, run_before_kill_ms: RUN_BEFORE_KILL_MS, image: IMAGE, engine: (await docker.version()).Version },
    results: { coxswain, 'docker restart: always': policy },
    ratio,
    detection_lag: detection,
    targets: { ratio_le_1_2: ratio <= 1.2, detection_le_50_ms: detection.max_ms <= 50 },
  };
}

if (isMain(import.meta.url)) {
  const r = await runDockerRestart();
  const row = (name, s) => `| ${name} | ${s.median_ms} | ${s.p90_ms} | ${s.min_ms} | ${s.max_ms} | ${s.kill_to_running.median_ms} |`;
  console.log('| restarted by | die → start median ms | p90 | min | max | kill → start median ms |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, s] of Object.entries(r.results)) console.log(row(name, s));
  console.log(`\ncoxswain ÷ Docker's policy: ${r.ratio}× (target ≤ 1.2×: ${r.targets.ratio_le_1_2 ? 'met' : 'NOT met'})`);
  console.log(`death seen after the engine's event: median ${r.detection_lag.median_ms} ms, max ${r.detection_lag.max_ms} ms (target ≤ 50 ms: ${r.targets.detection_le_50_ms ? 'met' : 'NOT met'})`);
  console.log(JSON.stringify(r));
}
