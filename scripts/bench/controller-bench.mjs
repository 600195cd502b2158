#!/usr/bin/env node
// coxswain's controller against BullMQ on a local Redis, side by side in one run, doing the same
// no-op job:
//
//   1. round trip, one job in flight: the client submits and waits for the result.
//      coxswain: submit {wait} to `cox controller`; one simulated agent long-polls (asking for up
//      to 100 offers, as the real agent asks for its free slots), acks what it got in one call and
//      reports SUCCESS at once (batched with any other results waiting). Run twice: over streams
//      (the typed client with transport 'stream', agents on the real agent's stream client) and
//      over plain HTTP requests. BullMQ: queue.add + job.waitUntilFinished(queueEvents); a Worker
//      (concurrency 1) with a no-op processor.
//   2. throughput, thousands in flight: N jobs submitted by C concurrent submitters;
//      coxswain: role-addressed jobs to A simulated agents; BullMQ: one Worker, concurrency A.
//      jobs/s from the first submit to the last result stored (agent result accepted /
//      worker 'completed').
//   Parts 1 and 2 run once more with the controller's Redis store (`--redis`) on BullMQ's
//   redis-server, over streams.
//   3. a fleet: 10,000 simulated agents long-polling one controller, each over its own stream
//      (in a few child processes); jobs to random node ids at a steady rate; dispatch latency
//      = submit → that agent's poll answered; controller RSS. BullMQ has no counterpart.
//   4. floors: what bounds parts 1 and 2 here whatever the controller's code does — a bare
//      message round trip between two processes, and the SQLite store alone doing a job's writes
//      (lib/floors.mjs). From them, the least a job's round trip can take and the most jobs/s one
//      core can store, set beside the targets.
//
// Agents and the worker run in child processes (lib/controller-agents.mjs, lib/bullmq-worker.mjs),
// the clients in this one; the controller and redis-server are separate daemons. Everything is
// on 127.0.0.1, every loop is bounded in count and time, and every process started here is
// stopped in a finally block (and tagged, so an interrupted run kills what is left).
//
//   node scripts/bench/controller-bench.mjs
//   BENCH_CONTROLLER_QUICK=1 …        smaller counts, for a smoke run
//   BENCH_CONTROLLER_CPU_PROF=<dir> … the controller writes V8 CPU profiles into <dir>
//   BENCH_CONTROLLER_ONLY=rt,tp,fleet,floor … run only some parts
//   BENCH_CONTROLLER_TP_AGENTS=n …    agents (and BullMQ concurrency) for part 2, default 8
//   BENCH_CONTROLLER_FLEET_RATE=n …   jobs/s in part 3's measured step, default 100
//   BENCH_CONTROLLER_KEEP_DIR=1 …     keep the temp dir (controller logs, SQLite files)
//   BENCH_CONTROLLER_STREAM_ONLY=1 …  skip the HTTP-transport runs of parts 1 and 2
//   BENCH_CONTROLLER_NODE_FLAGS='…'   extra node flags for the controller (e.g. --trace-gc)
//   BENCH_CONTROLLER_FLEET_TRANSPORT=http …  the fleet long-polls over HTTP instead of streams
//   BENCH_CONTROLLER_FLEET_STORE=redis …     the fleet's controller keeps its store in Redis
// Writes scripts/bench/results/controller.json and prints a markdown table.
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bullmqVersion, ensureBullmq, ensureRedis, loadBullmq, startRedis } from './lib/bullmq.mjs';
import { forkBenchChild, hardFdLimit, keepAliveClient, startController, vmStatusMb } from './lib/controller.mjs';
import { COX_ROOT } from './lib/coxswain.mjs';
import { cpuSeconds, installCleanupOnExit, killTagged, newTag, waitForQuiet } from './lib/procfs.mjs';
import { isMain, makeTempDir, median, percentile, removeDir, round, run, sleep, waitUntil, withTimeout } from './lib/util.mjs';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const AGENTS = fileURLToPath(new URL('./lib/controller-agents.mjs', import.meta.url));
const WORKER = fileURLToPath(new URL('./lib/bullmq-worker.mjs', import.meta.url));
const FLOORS = fileURLToPath(new URL('./lib/floors.mjs', import.meta.url));
const GID = 1;

const quick = Boolean(process.env.BENCH_CONTROLLER_QUICK);
export const SETTINGS = {
  rt: { warmup: quick ? 50 : 300, jobs: quick ? 300 : 2000 },
  tp: { warmup: quick ? 200 : 2000, jobs: quick ? 2000 : 20_000, agents: Number(process.env.BENCH_CONTROLLER_TP_AGENTS ?? 8), submitConcurrency: 64 },
  fleet: {
    agents: quick ? 1000 : 10_000,
    processes: 2,
    pollTimeoutS: quick ? 10 : 30,
    rampPerSec: 1000,
    /** Jobs to random node ids at this steady rate, for longer than one poll timeout. */
    jobs: quick ? 500 : 3000,
    ratePerSec: Number(process.env.BENCH_CONTROLLER_FLEET_RATE ?? 100),
    lightJobs: quick ? 50 : 150,
    lightRatePerSec: 10,
    idleCpuMs: 5000,
    /** The agent's default; `http` for a long-poll request per agent as JumpScale's agents did. */
    transport: process.env.BENCH_CONTROLLER_FLEET_TRANSPORT ?? 'stream',
    store: process.env.BENCH_CONTROLLER_FLEET_STORE ?? 'sqlite',
  },
};
/** bullmqJobsPerSIssue: what BullMQ did on this machine per issue 5, for a second ratio. */
const TARGETS = { rtRatio: 0.5, tpRatio: 2, fleetP99Ms: 50, fleetRssMb: 1024, bullmqJobsPerSIssue: 2950 };
const PHASE_LIMIT_MS = 10 * 60_000;
/** How long the submissions of a load step may take to be answered after the last was sent. */
const DRAIN_LIMIT_MS = 120_000;

const nowEpoch = () => performance.timeOrigin + performance.now();

function latencyStats(ms) {
  return {
    samples: ms.length,
    p50_ms: round(percentile(ms, 50), 3),
    p90_ms: round(percentile(ms, 90), 3),
    p99_ms: round(percentile(ms, 99), 3),
    max_ms: round(percentile(ms, 100), 3),
    mean_ms: ms.length ? round(ms.reduce((a, b) => a + b, 0) / ms.length, 3) : null,
  };
}

/** Runs `fn(i)` for i in [0, n) with at most `concurrency` at a time. */
async function pool(n, concurrency, fn) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(n, concurrency) }, async () => {
    while (next < n) await fn(next++);
  });
  await Promise.all(lanes);
}

const cpuOf = (pids) => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid ? cpuSeconds(pid) : null]));
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
function cpuDelta(before, after, seconds) {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k] === null ? null : round((100 * (after[k] - before[k])) / seconds, 1)]));
}

async function startAgents({ tag, dir, port, first, count, roles, pollTimeoutS, rampPerSec, transport = 'http' }) {
  const agents = forkBenchChild(AGENTS, { tag, cwd: dir });
  agents.send({ type: 'start', port, gid: GID, first, count, roles, pollTimeoutS, rampPerSec, transport });
  await agents.next('started', 120_000);
  return agents;
}

async function sessions(client) {
  const r = await client.request('GET', '/api/sessions', undefined, { timeoutMs: 30_000 });
  if (r.status !== 200) throw new Error(`/api/sessions: HTTP ${r.status}`);
  return JSON.parse(r.text);
}

/** True once nodes first … first+count-1 all have a session (they have polled). */
async function polling(client, first, count) {
  const live = await sessions(client);
  for (let nid = first; nid < first + count; nid++) if (!live[`${GID}_${nid}`]) return false;
  return true;
}

function checkAgentReport(rep, label) {
  const problems = [];
  if (rep.errors) problems.push(`${rep.errors} errors (${rep.firstErrors.join('; ')})`);
  if (rep.duplicates) problems.push(`${rep.duplicates} job ids offered twice`);
  if (rep.refused) problems.push(`${rep.refused} results refused`);
  if (problems.length) console.error(`${label}: ${problems.join(', ')}`);
  return problems;
}

/**
 * How the bench's client submits to coxswain: `stream`, the typed client (dist/client) with
 * `transport: 'stream'`, as a program submitting many jobs would; `http`, one raw keep-alive
 * POST /api/jobs per job. Answers the job view.
 */
async function submitter(port, transport) {
  if (transport === 'stream') {
    const { ControllerClient } = await import(pathToFileURL(join(COX_ROOT, 'dist/client/controller-client.js')).href);
    const client = new ControllerClient({ url: `http://127.0.0.1:${port}`, transport: 'stream', timeoutMs: 60_000 });
    return { submit: (req) => client.submit(req), close: () => client.close() };
  }
  const client = keepAliveClient(port);
  return {
    async submit(req) {
      const r = await client.request('POST', '/api/jobs', req, { timeoutMs: 60_000 });
      if (r.status !== 201) throw new Error(`submit: HTTP ${r.status} ${r.text.slice(0, 300)}`);
      return JSON.parse(r.text);
    },
    close: () => client.destroy(),
  };
}

// ---------------------------------------------------------------- 1. round trip

async function roundTripCoxswain({ tag, dir, ctl }, transport) {
  const { warmup, jobs } = SETTINGS.rt;
  const agents = await startAgents({ tag, dir, port: ctl.port, first: 1, count: 1, roles: ['rt'], pollTimeoutS: 60, transport });
  const probe = keepAliveClient(ctl.port);
  const client = await submitter(ctl.port, transport);
  try {
    await waitUntil(() => polling(probe, 1, 1), { timeoutMs: 10_000, intervalMs: 20, what: 'the agent to poll' });
    const busy = await waitForQuiet({ maxWaitMs: 30_000 });
    const ms = [];
    for (let i = 0; i < warmup + jobs; i++) {
      const t0 = performance.now();
      const view = await client.submit({ cmd: 'noop', gid: GID, nid: 1, wait: 30 });
      const t1 = performance.now();
      if (view.state !== 'SUCCESS') throw new Error(`job ${view.job?.id} ended ${view.state}`);
      if (i >= warmup) ms.push(t1 - t0);
    }
    agents.send({ type: 'report' });
    const rep = await agents.next('report', 10_000);
    return { transport, ...latencyStats(ms), machine_busy_pct_before: busy, problems: checkAgentReport(rep, `round trip (coxswain, ${transport})`) };
  } finally {
    probe.destroy();
    client.close();
    await agents.stop();
  }
}

async function roundTripBullmq({ tag, dir, redis }) {
  const { warmup, jobs } = SETTINGS.rt;
  const { Queue, QueueEvents } = loadBullmq();
  const name = 'rt';
  const worker = forkBenchChild(WORKER, { tag, cwd: dir });
  const queue = new Queue(name, { connection: redis.connection });
  const events = new QueueEvents(name, { connection: redis.connection });
  try {
    worker.send({ type: 'start', connection: redis.connection, queue: name, concurrency: 1 });
    await worker.next('started', 30_000);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const busy = await waitForQuiet({ maxWaitMs: 30_000 });
    const ms = [];
    for (let i = 0; i < warmup + jobs; i++) {
      const t0 = performance.now();
      const job = await queue.add('noop', {});
      await job.waitUntilFinished(events, 30_000);
      const t1 = performance.now();
      if (i >= warmup) ms.push(t1 - t0);
    }
    return { ...latencyStats(ms), machine_busy_pct_before: busy };
  } finally {
    await Promise.allSettled([queue.close(), events.close()]);
    await worker.stop();
  }
}

// ---------------------------------------------------------------- 2. throughput

/** Submits n jobs with `submit(i)` from C lanes, and waits for `child` to report n results. */
async function timedBatch(child, n, submit, pids) {
  child.send({ type: 'expect', n });
  const cpu0 = { ...cpuOf(pids), bench: selfCpu() };
  const t0 = nowEpoch();
  let submittedAt = null;
  const submitting = pool(n, SETTINGS.tp.submitConcurrency, submit).then(() => (submittedAt = nowEpoch()));
  const [done] = await Promise.all([child.next('done', PHASE_LIMIT_MS), submitting]);
  const seconds = (done.at - t0) / 1000;
  const cpu1 = { ...cpuOf(pids), bench: selfCpu() };
  return {
    jobs: n,
    seconds: round(seconds, 3),
    jobs_per_s: round(n / seconds, 0),
    submit_jobs_per_s: round(n / ((submittedAt - t0) / 1000), 0),
    cpu_pct_of_a_core: cpuDelta(cpu0, cpu1, seconds),
  };
}

async function throughputCoxswain({ tag, dir, ctl }, transport) {
  const { warmup, jobs, agents: count } = SETTINGS.tp;
  // Each transport gets its own nodes: the other's sessions are still live and would share the jobs.
  const first = transport === 'stream' ? 101 : 201;
  const roles = [`tp-${transport}`];
  const agents = await startAgents({ tag, dir, port: ctl.port, first, count, roles, pollTimeoutS: 60, transport });
  const probe = keepAliveClient(ctl.port);
  const client = await submitter(ctl.port, transport);
  const submit = async () => {
    const view = await client.submit({ cmd: 'noop', roles });
    if (view.state === 'ERROR') throw new Error(`submit: ${view.results?.[0]?.data ?? 'ERROR'}`);
  };
  try {
    await waitUntil(() => polling(probe, first, count), { timeoutMs: 10_000, intervalMs: 20, what: `${count} agents to poll` });
    await timedBatch(agents, warmup, submit, {});
    const busy = await waitForQuiet({ maxWaitMs: 30_000 });
    const out = await timedBatch(agents, jobs, submit, { controller: ctl.pid, agents: agents.pid });
    agents.send({ type: 'report' });
    const rep = await agents.next('report', 10_000);
    return { transport, ...out, machine_busy_pct_before: busy, problems: checkAgentReport(rep, `throughput (coxswain, ${transport})`) };
  } finally {
    probe.destroy();
    client.close();
    await agents.stop();
  }
}

async function throughputBullmq({ tag, dir, redis }, concurrency = SETTINGS.tp.agents) {
  const { warmup, jobs } = SETTINGS.tp;
  const { Queue } = loadBullmq();
  // Its own queue per run: the counts checked below are the queue's whole history.
  const name = `tp-c${concurrency}`;
  const worker = forkBenchChild(WORKER, { tag, cwd: dir });
  const queue = new Queue(name, { connection: redis.connection });
  try {
    worker.send({ type: 'start', connection: redis.connection, queue: name, concurrency });
    await worker.next('started', 30_000);
    await queue.waitUntilReady();
    const submit = () => queue.add('noop', {});
    await timedBatch(worker, warmup, submit, {});
    const busy = await waitForQuiet({ maxWaitMs: 30_000 });
    const out = await timedBatch(worker, jobs, submit, { redis: redis.pid, worker: worker.pid });
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active');
    const problems = [];
    if (counts.completed !== warmup + jobs) problems.push(`${counts.completed} completed in Redis, expected ${warmup + jobs}`);
    if (counts.failed) problems.push(`${counts.failed} failed`);
    return { ...out, machine_busy_pct_before: busy, problems };
  } finally {
    await queue.close().catch(() => {});
    await worker.stop();
  }
}

// ---------------------------------------------------------------- 3. fleet

/**
 * Sends `jobs` jobs to random node ids at `ratePerSec` (open loop: a slow controller does not slow
 * the sender), then collects every dispatch latency the agents timed. A controller that cannot
 * keep up is reported with what did arrive, not as a failed run.
 */
async function loadStep({ ctl, client, fleetProcs, agents, ratePerSec, jobs }) {
  for (const c of fleetProcs) c.send({ type: 'report' });
  await Promise.all(fleetProcs.map((c) => c.next('report', 30_000))); // clears earlier latencies
  const submitMs = [];
  const submitErrors = [];
  const problems = [];
  const inFlight = new Set();
  const cpu0 = cpuSeconds(ctl.pid);
  const start = performance.now();
  for (let i = 0; i < jobs; i++) {
    const due = start + (i * 1000) / ratePerSec;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const nid = 1 + Math.floor(Math.random() * agents);
    const ts = performance.now();
    const p = client
      .request('POST', '/api/jobs', { cmd: 'noop', gid: GID, nid, data: `t:${nowEpoch()}` }, { timeoutMs: DRAIN_LIMIT_MS })
      .then((r) => {
        if (r.status !== 201) throw new Error(`HTTP ${r.status} ${r.text.slice(0, 200)}`);
        submitMs.push(performance.now() - ts);
      })
      .catch((err) => {
        submitErrors.push(err.message);
      });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }
  const sentSeconds = (performance.now() - start) / 1000;
  await withTimeout(Promise.all(inFlight), DRAIN_LIMIT_MS, 'the last submissions').catch((err) => problems.push(`${err.message}: ${inFlight.size} still unanswered`));
  const drainSeconds = (performance.now() - start) / 1000 - sentSeconds;
  const cpuPct = (100 * (cpuSeconds(ctl.pid) - cpu0)) / ((performance.now() - start) / 1000);
  if (submitErrors.length) problems.push(`${submitErrors.length} submits failed: ${[...new Set(submitErrors)].slice(0, 3).join('; ')}`);

  // Every job's dispatch is timed by the agent that got it.
  const dispatch = [];
  await waitUntil(
    async () => {
      for (const c of fleetProcs) c.send({ type: 'report' });
      for (const r of await Promise.all(fleetProcs.map((c) => c.next('report', 30_000)))) dispatch.push(...r.latencies);
      return dispatch.length >= jobs - submitErrors.length;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: `the ${jobs} jobs to reach their agents` },
  ).catch((err) => problems.push(`${err.message} (${dispatch.length} arrived)`));
  if (dispatch.length < jobs) problems.push(`only ${dispatch.length} of ${jobs} jobs reached their agent: the rest count as over target`);
  // Jobs that never arrived are the slowest of all: they must not make the percentiles look better.
  const padded = [...dispatch, ...Array(Math.max(0, jobs - dispatch.length)).fill(Infinity)];
  const stats = latencyStats(padded);
  return {
    stats: {
      rate_per_s: ratePerSec,
      jobs_sent: jobs,
      jobs_arrived: dispatch.length,
      ...stats,
      mean_ms: dispatch.length ? round(dispatch.reduce((a, b) => a + b, 0) / dispatch.length, 3) : null,
      send_seconds: round(sentSeconds, 1),
      drain_seconds_after_last_send: round(drainSeconds, 1),
      submit_p50_ms: round(median(submitMs), 3),
      submit_p99_ms: round(percentile(submitMs, 99), 3),
      controller_cpu_pct: round(cpuPct, 1),
    },
    problems,
  };
}

async function fleet({ tag, dir }) {
  const s = SETTINGS.fleet;
  const limit = await hardFdLimit();
  if (limit < s.agents + 512) return { skipped: `hard open-file limit ${limit} < ${s.agents + 512}: the controller cannot hold ${s.agents} connections` };
  const redis = s.store === 'redis' ? await startRedis({ dir, tag }) : null;
  const ctl = await startController({ dir, tag, args: ['--poll-timeout', `${s.pollTimeoutS}s`], redisUrl: redis ? `redis://127.0.0.1:${redis.port}` : null });
  const fleetProcs = [];
  const client = keepAliveClient(ctl.port);
  let rssMax = 0;
  const sampler = setInterval(() => {
    try {
      rssMax = Math.max(rssMax, vmStatusMb(ctl.pid, 'VmRSS') ?? 0);
    } catch {
      // The controller is gone; the phase will fail on its own.
    }
  }, 250);
  try {
    const rssBefore = vmStatusMb(ctl.pid, 'VmRSS');
    const per = Math.ceil(s.agents / s.processes);
    const t0 = performance.now();
    for (let p = 0; p < s.processes; p++) {
      const count = Math.min(per, s.agents - p * per);
      const child = forkBenchChild(AGENTS, { tag, cwd: dir });
      fleetProcs.push(child);
      child.send({ type: 'start', port: ctl.port, gid: GID, first: 1 + p * per, count, roles: ['fleet'], pollTimeoutS: s.pollTimeoutS, rampPerSec: s.rampPerSec / s.processes, transport: s.transport });
    }
    await Promise.all(fleetProcs.map((c) => c.next('started', 120_000)));
    await waitUntil(() => polling(client, 1, s.agents), { timeoutMs: 120_000, intervalMs: 1000, what: `${s.agents} agents to poll` });
    const connectS = (performance.now() - t0) / 1000;
    await sleep(1000);
    const rssConnected = vmStatusMb(ctl.pid, 'VmRSS');

    // Idle: every agent holds a poll, nothing to do; polls time out and are renewed.
    const c0 = cpuSeconds(ctl.pid);
    await sleep(s.idleCpuMs);
    const idleCpuPct = (100 * (cpuSeconds(ctl.pid) - c0)) / (s.idleCpuMs / 1000);

    // Load steps: jobs to random node ids, open loop at a fixed rate. A light step first (a load
    // any controller should carry), then the measured one, longer than one poll timeout so the
    // agents' re-polls happen under load too.
    const light = await loadStep({ ctl, client, fleetProcs, agents: s.agents, ratePerSec: s.lightRatePerSec, jobs: s.lightJobs });
    const main = await loadStep({ ctl, client, fleetProcs, agents: s.agents, ratePerSec: s.ratePerSec, jobs: s.jobs });
    for (const c of fleetProcs) c.send({ type: 'report' });
    const reports = await Promise.all(fleetProcs.map((c) => c.next('report', 30_000)));
    const problems = [...reports.flatMap((r, i) => checkAgentReport(r, `fleet process ${i}`)), ...light.problems, ...main.problems];
    return {
      agents: s.agents,
      connect_s: round(connectS, 1),
      ...main.stats,
      light_load: light.stats,
      controller_rss_mb: {
        before_agents: round(rssBefore, 0),
        all_connected: round(rssConnected, 0),
        max_sampled: round(Math.max(rssMax, vmStatusMb(ctl.pid, 'VmRSS') ?? 0), 0),
        peak_vmhwm: round(vmStatusMb(ctl.pid, 'VmHWM'), 0),
      },
      controller_cpu_pct: { idle_with_agents: round(idleCpuPct, 1), light_load: light.stats.controller_cpu_pct, under_load: main.stats.controller_cpu_pct },
      agent_sockets: reports.reduce((a, r) => a + r.sockets, 0),
      polls: reports.reduce((a, r) => a + r.polls, 0),
      empty_polls: reports.reduce((a, r) => a + r.empty, 0),
      problems,
    };
  } finally {
    clearInterval(sampler);
    client.destroy();
    await Promise.allSettled(fleetProcs.map((c) => c.stop(15_000)));
    await ctl.close();
    await redis?.close();
  }
}

// ---------------------------------------------------------------- 4. floors

/**
 * What bounds parts 1 and 2 on this machine, whatever the controller's code: a bare message round
 * trip between two processes (lib/floors.mjs echoes), and the controller's SQLite store alone
 * doing a job's three writes, one commit each (one job in flight) and grouped by 64 (load).
 */
async function floors({ tag, dir }) {
  const { warmup, jobs } = SETTINGS.rt;
  const child = forkBenchChild(FLOORS, { tag, cwd: dir });
  const server = net.createServer();
  try {
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    const connected = new Promise((ok) => server.once('connection', ok));
    child.send({ type: 'echo', port: server.address().port });
    const [sock] = await Promise.all([connected, child.next('echoing', 10_000)]);
    sock.setNoDelay(true);
    const message = `${JSON.stringify({ op: 'ping', id: 1 })}\n`;
    const ms = [];
    for (let i = 0; i < warmup + jobs; i++) {
      const t0 = performance.now();
      await withTimeout(new Promise((ok) => { sock.once('data', ok); sock.write(message); }), 5000, 'the echo');
      if (i >= warmup) ms.push(performance.now() - t0);
    }
    sock.destroy();
    const store = {};
    for (const [key, batch, n] of [['one_at_a_time', 1, jobs], ['batches_of_64', 64, SETTINGS.tp.jobs]]) {
      child.send({ type: 'store', path: join(dir, `floor-${batch}.db`), batch, jobs: n });
      const r = await child.next('store', PHASE_LIMIT_MS);
      store[key] = { batch, jobs: n, cpu_us_per_job: round(r.cpu_us_per_job, 1), wall_us_per_job: round(r.wall_us_per_job, 1) };
    }
    return { message_round_trip: latencyStats(ms), store };
  } finally {
    server.close();
    await child.stop();
  }
}

// ---------------------------------------------------------------- the run

async function attempt(what, fn) {
  console.error(`controller bench: ${what}…`);
  const t0 = performance.now();
  try {
    const r = await withTimeout(fn(), PHASE_LIMIT_MS, what);
    console.error(`controller bench: ${what} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return r;
  } catch (err) {
    console.error(`controller bench: ${what} failed: ${err.stack ?? err}`);
    return { error: err.message };
  }
}

const only = new Set((process.env.BENCH_CONTROLLER_ONLY ?? 'rt,tp,fleet,floor').split(','));

export async function main() {
  const startedAt = new Date().toISOString();
  // BullMQ or Redis missing leaves the coxswain figures worth having: the peer shows as failed.
  let peerError = null;
  let redisVersion = null;
  try {
    await ensureBullmq();
    redisVersion = await ensureRedis();
  } catch (err) {
    peerError = err.message;
    console.error(`controller bench: no BullMQ peer: ${peerError}`);
  }
  const peer = (what, fn) => (peerError ? { error: peerError } : attempt(what, fn));
  const tag = newTag('controller');
  const dir = makeTempDir('controller');
  const results = { round_trip: {}, throughput: {}, fleet: null, floors: null };
  let ctl = null;
  let redis = null;
  try {
    if (only.has('rt') || only.has('tp')) {
      if (!peerError) redis = await startRedis({ dir, tag }).catch((err) => ((peerError = `redis-server: ${err.message}`), null));
      ctl = await startController({ dir, tag, args: ['--poll-timeout', '60s'] });
      const ctx = { tag, dir, ctl, redis };
      if (only.has('rt')) {
        results.round_trip.coxswain = await attempt('round trip, coxswain (stream)', () => roundTripCoxswain(ctx, 'stream'));
        if (!process.env.BENCH_CONTROLLER_STREAM_ONLY) results.round_trip.coxswain_http = await attempt('round trip, coxswain (HTTP)', () => roundTripCoxswain(ctx, 'http'));
        results.round_trip.bullmq = await peer('round trip, BullMQ', () => roundTripBullmq(ctx));
      }
      if (only.has('tp')) {
        results.throughput.coxswain = await attempt('throughput, coxswain (stream)', () => throughputCoxswain(ctx, 'stream'));
        if (!process.env.BENCH_CONTROLLER_STREAM_ONLY) results.throughput.coxswain_http = await attempt('throughput, coxswain (HTTP)', () => throughputCoxswain(ctx, 'http'));
        results.throughput.bullmq = await peer('throughput, BullMQ', () => throughputBullmq(ctx));
        // BullMQ's default: one job at a time per worker. The issue's reference figure looks like this one.
        results.throughput.bullmq_concurrency_1 = await peer('throughput, BullMQ, concurrency 1', () => throughputBullmq(ctx, 1));
      }
      await ctl.close();
      ctl = null;
      // The Redis store on the same redis-server as BullMQ: the store a fleet with several
      // controllers runs, measured against the peer that also keeps its queue in Redis.
      if (redis) {
        ctl = await startController({ dir, tag, args: ['--poll-timeout', '60s'], redisUrl: `redis://127.0.0.1:${redis.port}` });
        const onRedis = { tag, dir, ctl, redis };
        if (only.has('rt')) results.round_trip.coxswain_redis = await attempt('round trip, coxswain on Redis (stream)', () => roundTripCoxswain(onRedis, 'stream'));
        if (only.has('tp')) results.throughput.coxswain_redis = await attempt('throughput, coxswain on Redis (stream)', () => throughputCoxswain(onRedis, 'stream'));
        await ctl.close();
        ctl = null;
      }
      await redis?.close();
      redis = null;
    }
    if (only.has('fleet')) results.fleet = await attempt(`${SETTINGS.fleet.agents} agents`, () => fleet({ tag, dir }));
    if (only.has('floor')) results.floors = await attempt('floors', () => floors({ tag, dir }));
  } finally {
    await ctl?.close();
    await redis?.close();
    const left = killTagged(tag);
    if (left) console.error(`controller bench: killed ${left} leftover process(es)`);
    if (process.env.BENCH_CONTROLLER_KEEP_DIR) console.error(`controller bench: kept ${dir}`);
    else removeDir(dir);
  }

  const out = {
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? null, kernel: os.release() },
    versions: { coxswain: await coxswainRevision(), coxswain_root: COX_ROOT, node: process.version, bullmq: bullmqVersion(), redis: redisVersion },
    settings: SETTINGS,
    targets: TARGETS,
    setup: [
      'coxswain: `cox controller` (dist/), SQLite file in WAL mode (synchronous=NORMAL) in a temp dir; simulated agents in child processes, speaking the real agent\'s protocol: poll for up to max_jobs (100) offers, one batched ack per poll, then the SUCCESS results in the background through a queue that sends at once when idle and batches what arrives during a send, while polling again (the real agent\'s order).',
      `Transports: "stream" (the headline rows; the agent\'s default) = each simulated agent uses the real agent\'s ControllerClient over its own cox-stream/1 connection, and the client is the typed ControllerClient with transport "stream"; "HTTP" = raw keep-alive HTTP requests for agents and client. The fleet of part 3 polls over ${SETTINGS.fleet.transport === 'stream' ? 'streams' : 'HTTP'}.`,
      'coxswain on Redis (the "Redis store" rows): `cox controller --redis` on the same redis-server as BullMQ, streams, the same simulated agents and client.',
      'BullMQ: redis-server with no persistence (--save \'\' --appendonly no); Worker with a no-op processor in a child process; Queue and QueueEvents in the bench process.',
      'Floors: a message round trip = one newline-delimited JSON message from the bench process to a child process over 127.0.0.1 TCP (no Nagle) and back; the store alone = dist/\'s SqliteJobStore on a fresh file in a child process, a job\'s three writes (submitted already offered to a waiting poll, acknowledged, ended) with nothing else (the controller itself also parses, validates and answers six messages per job).',
      'Clients (submitters) run in the bench process for both. Round trip: submit {wait} vs queue.add + job.waitUntilFinished(queueEvents). Throughput: submits without waiting, timed from the first submit to the last result stored (agent result accepted / Worker completed event).',
    ],
    ...results,
  };
  out.verdicts = verdicts(out);
  out.table = table(out);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}controller.json`, `${JSON.stringify(out, null, 1)}\n`);
  return out;
}

/** The commit under test, and whether src/ differs from it (the dist/ measured is built from src/). */
async function coxswainRevision() {
  const git = (args) => run('git', args, { timeoutMs: 10_000, cwd: COX_ROOT });
  const rev = await git(['rev-parse', '--short', 'HEAD']);
  if (rev.code !== 0) return process.env.BENCH_COX_REV ?? 'unknown commit';
  const dirty = await git(['status', '--porcelain', '--', 'src']);
  return `${rev.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted changes in src/' : ''}`;
}

const num = (x) => typeof x === 'number' && Number.isFinite(x);

const ratio = (x, y) => (num(x) && num(y) && y > 0 ? x / y : null);

function verdicts(r) {
  const c = r.round_trip.coxswain;
  const b = r.round_trip.bullmq;
  const tc = r.throughput.coxswain;
  const tb = r.throughput.bullmq;
  const f = r.fleet;
  const fl = r.floors;
  // A job is three message round trips (submit/answer, offer/ack, ack's answer/result) and, with
  // one in flight, three commits one after another; medians added, so a floor, not a prediction.
  const rtFloor = num(fl?.message_round_trip?.p50_ms) && num(fl?.store?.one_at_a_time?.wall_us_per_job) ? 3 * fl.message_round_trip.p50_ms + fl.store.one_at_a_time.wall_us_per_job / 1000 : null;
  const tpCeiling = num(fl?.store?.batches_of_64?.cpu_us_per_job) ? 1e6 / fl.store.batches_of_64.cpu_us_per_job : null;
  const v = {
    rt_p50_floor_ms: rtFloor,
    rt_p50_floor_ratio: ratio(rtFloor, b?.p50_ms),
    tp_store_ceiling_jobs_per_s: tpCeiling,
    tp_store_ceiling_ratio: ratio(tpCeiling, tb?.jobs_per_s),
    rt_p50_ratio: ratio(c?.p50_ms, b?.p50_ms),
    rt_p99_ratio: ratio(c?.p99_ms, b?.p99_ms),
    tp_ratio: ratio(tc?.jobs_per_s, tb?.jobs_per_s),
    tp_ratio_vs_issue_reference: ratio(tc?.jobs_per_s, TARGETS.bullmqJobsPerSIssue),
  };
  return {
    ...Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x, 3)])),
    rt_p50_met: v.rt_p50_ratio === null ? null : v.rt_p50_ratio <= TARGETS.rtRatio,
    rt_p99_met: v.rt_p99_ratio === null ? null : v.rt_p99_ratio <= TARGETS.rtRatio,
    rt_p50_target_under_floor: v.rt_p50_floor_ratio === null ? null : v.rt_p50_floor_ratio > TARGETS.rtRatio,
    tp_target_over_ceiling: v.tp_store_ceiling_ratio === null ? null : v.tp_store_ceiling_ratio < TARGETS.tpRatio,
    tp_met: v.tp_ratio === null ? null : v.tp_ratio >= TARGETS.tpRatio,
    // A job that never reached its agent counts as over target.
    fleet_p99_met: f && !f.error && !f.skipped ? f.jobs_arrived >= f.jobs_sent && num(f.p99_ms) && f.p99_ms <= TARGETS.fleetP99Ms : null,
    fleet_rss_met: num(f?.controller_rss_mb?.peak_vmhwm) ? f.controller_rss_mb.peak_vmhwm <= TARGETS.fleetRssMb : null,
  };
}

/** µs of CPU per job in a throughput run, for the processes in `first` / those in `rest`. */
function cpuPerJob(run, first, rest) {
  const pct = run?.cpu_pct_of_a_core;
  if (!pct || !num(run.jobs_per_s)) return '—';
  const us = (keys) => Math.round(keys.reduce((sum, k) => sum + (pct[k] ?? 0), 0) * 1e4 / run.jobs_per_s);
  return `${us(first)} / ${us(rest)}`;
}

function table(r) {
  const v = r.verdicts;
  const cell = (x, key, digits = 2) => {
    if (x?.error) return 'failed';
    if (x?.skipped) return 'skipped';
    if (num(x?.[key])) return x[key].toFixed(digits);
    // Percentiles past the jobs that arrived: say how many did.
    return num(x?.jobs_sent) && x.jobs_arrived < x.jobs_sent ? `> ${DRAIN_LIMIT_MS / 1000} s (${x.jobs_arrived}/${x.jobs_sent} arrived)` : '—';
  };
  const rat = (x) => (num(x) ? `${x.toFixed(2)}×` : '—');
  const fl = r.floors;
  const mrt = fl?.message_round_trip;
  const reachable = (beyond, target) => (beyond === null ? '' : `target ${target} ${beyond ? '**out of reach** here' : 'only if everything else cost nothing'}`);
  const met = (ok, target) => `${ok === null ? 'n/a' : ok ? 'yes' : '**no**'} (${target})`;
  const f = r.fleet;
  const rss = f?.controller_rss_mb ? { v: f.controller_rss_mb.peak_vmhwm } : f;
  const n = SETTINGS.fleet.agents.toLocaleString('en');
  const rows = [
    ['round trip, 1 in flight, p50 (ms)', cell(r.round_trip.coxswain, 'p50_ms', 3), cell(r.round_trip.bullmq, 'p50_ms', 3), rat(v.rt_p50_ratio), met(v.rt_p50_met, '≤ 0.5×')],
    ['round trip, 1 in flight, p99 (ms)', cell(r.round_trip.coxswain, 'p99_ms', 3), cell(r.round_trip.bullmq, 'p99_ms', 3), rat(v.rt_p99_ratio), met(v.rt_p99_met, '≤ 0.5×')],
    [`throughput, ${SETTINGS.tp.jobs.toLocaleString('en')} jobs, ${SETTINGS.tp.agents} agents / concurrency ${SETTINGS.tp.agents} (jobs/s)`, cell(r.throughput.coxswain, 'jobs_per_s', 0), cell(r.throughput.bullmq, 'jobs_per_s', 0), rat(v.tp_ratio), met(v.tp_met, '≥ 2×')],
    ['round trip p50, Redis store (ms)', cell(r.round_trip.coxswain_redis, 'p50_ms', 3), cell(r.round_trip.bullmq, 'p50_ms', 3), rat(ratio(r.round_trip.coxswain_redis?.p50_ms, r.round_trip.bullmq?.p50_ms)), ''],
    ['round trip p99, Redis store (ms)', cell(r.round_trip.coxswain_redis, 'p99_ms', 3), cell(r.round_trip.bullmq, 'p99_ms', 3), rat(ratio(r.round_trip.coxswain_redis?.p99_ms, r.round_trip.bullmq?.p99_ms)), ''],
    ['throughput, Redis store (jobs/s)', cell(r.throughput.coxswain_redis, 'jobs_per_s', 0), cell(r.throughput.bullmq, 'jobs_per_s', 0), rat(ratio(r.throughput.coxswain_redis?.jobs_per_s, r.throughput.bullmq?.jobs_per_s)), ''],
    ['round trip p50 over HTTP, a request per call (ms)', cell(r.round_trip.coxswain_http, 'p50_ms', 3), cell(r.round_trip.bullmq, 'p50_ms', 3), rat(ratio(r.round_trip.coxswain_http?.p50_ms, r.round_trip.bullmq?.p50_ms)), ''],
    ['round trip p99 over HTTP, a request per call (ms)', cell(r.round_trip.coxswain_http, 'p99_ms', 3), cell(r.round_trip.bullmq, 'p99_ms', 3), rat(ratio(r.round_trip.coxswain_http?.p99_ms, r.round_trip.bullmq?.p99_ms)), ''],
    ['throughput, BullMQ with its default concurrency 1 (jobs/s)', '—', cell(r.throughput.bullmq_concurrency_1, 'jobs_per_s', 0), rat(ratio(r.throughput.coxswain?.jobs_per_s, r.throughput.bullmq_concurrency_1?.jobs_per_s)), ''],
    ['throughput over HTTP, a request per call (jobs/s)', cell(r.throughput.coxswain_http, 'jobs_per_s', 0), cell(r.throughput.bullmq, 'jobs_per_s', 0), rat(ratio(r.throughput.coxswain_http?.jobs_per_s, r.throughput.bullmq?.jobs_per_s)), ''],
    ['floor: bare message round trip between two processes, p50 / p99 (ms)', num(mrt?.p50_ms) ? `${mrt.p50_ms.toFixed(3)} / ${mrt.p99_ms.toFixed(3)}` : cell(fl, 'x'), '—', '—', ''],
    ['floor: SQLite store alone, a job\'s 3 writes committed one by one (µs per job, wall / CPU)', num(fl?.store?.one_at_a_time?.wall_us_per_job) ? `${fl.store.one_at_a_time.wall_us_per_job} / ${fl.store.one_at_a_time.cpu_us_per_job}` : cell(fl, 'x'), '—', '—', ''],
    ['floor: a job\'s round trip, 3 message round trips + 3 commits (p50, ms)', cell({ v: v.rt_p50_floor_ms }, 'v', 3), cell(r.round_trip.bullmq, 'p50_ms', 3), rat(v.rt_p50_floor_ratio), reachable(v.rt_p50_target_under_floor, '≤ 0.5×')],
    ['CPU per job in the throughput run, µs: coxswain controller / agents + client; BullMQ redis-server / worker + client', cpuPerJob(r.throughput.coxswain, ['controller'], ['agents', 'bench']), cpuPerJob(r.throughput.bullmq, ['redis'], ['worker', 'bench']), '—', ''],
    ['ceiling: SQLite store alone on one core, writes grouped by 64 (jobs/s)', cell({ v: v.tp_store_ceiling_jobs_per_s }, 'v', 0), cell(r.throughput.bullmq, 'jobs_per_s', 0), rat(v.tp_store_ceiling_ratio), reachable(v.tp_target_over_ceiling, '≥ 2×')],
    [`${n} agents polling, ${SETTINGS.fleet.ratePerSec} jobs/s to random nids: dispatch p50 (ms)`, cell(f, 'p50_ms', 2), '—', '—', ''],
    [`${n} agents polling, ${SETTINGS.fleet.ratePerSec} jobs/s to random nids: dispatch p99 (ms)`, cell(f, 'p99_ms', 2), '—', '—', met(v.fleet_p99_met, '≤ 50 ms')],
    [`${n} agents polling, ${SETTINGS.fleet.lightRatePerSec} jobs/s (light): dispatch p99 (ms)`, cell(f?.light_load ?? f, 'p99_ms', 2), '—', '—', ''],
    [`${n} agents polling: controller peak RSS (MB)`, f?.error || f?.skipped ? cell(f, 'x') : cell(rss, 'v', 0), '—', '—', met(v.fleet_rss_met, '≤ 1024 MB')],
  ];
  return ['| metric | coxswain | BullMQ | ratio | target met? |', '|---|---|---|---|---|', ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

if (isMain(import.meta.url)) {
  installCleanupOnExit();
  const r = await main();
  console.log(`\n${r.table}\n`);
  for (const [part, peers] of Object.entries({ round_trip: r.round_trip, throughput: r.throughput, fleet: { coxswain: r.fleet }, floors: { coxswain: r.floors } })) {
    for (const [peer, x] of Object.entries(peers ?? {})) {
      if (x?.error) console.log(`${part} (${peer}) failed: ${x.error}`);
      if (x?.problems?.length) console.log(`${part} (${peer}): ${x.problems.join('; ')}`);
    }
  }
  console.log(`Results: ${RESULTS}controller.json`);
}
