// Simulated node agents for the controller bench, run as a child process (child_process.fork)
// so that the agents, like real ones, are not in the client's process. Each simulated agent
// speaks what the real agent speaks (src/agent/transport/): long poll for up to <free slots>
// offers, acknowledge all offers of one poll in one batched ack, then poll again at once while
// the results go out through a per-agent queue that sends at once when idle and coalesces what
// arrives meanwhile into the next batch (src/agent/transport/result-queue.ts). The job itself is
// a no-op, so every slot is free again by the next poll: max is always `maxJobs` (agent2's
// default max_jobs, 100).
//
// transport 'stream' (the real agent's default): each agent uses the real agent's
// ControllerClient (dist/agent/transport/controller-client.js) over its own stream connection.
// transport 'http': raw keep-alive HTTP requests (`GET /{gid}/{nid}/cmd?max=`, `POST .../ack`,
// `POST .../result`), cheap enough per agent for the 10,000-agent fleet.
//
// A job whose `data` is `t:<epoch ms>` (the submitter's clock) is timed: submit → this poll's
// answer, the dispatch latency. performance.timeOrigin + now() is the same clock in every
// process on the machine.
//
// IPC, parent → child:
//   {type:'start', port, gid, first, count, roles, pollTimeoutS, rampPerSec, maxJobs?, transport?}
//   {type:'expect', n}   send {type:'done', at} once n more results have been accepted
//   {type:'report'}      answer {type:'report', ...counters, latencies}; latencies are then cleared
//   {type:'stop'}        end every poll, answer {type:'stopped'} and exit
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { keepAliveClient } from './controller.mjs';
import { COX_ROOT } from './coxswain.mjs';
import { sleep } from './util.mjs';

const nowEpoch = () => performance.timeOrigin + performance.now();

const counters = { polls: 0, empty: 0, offers: 0, acked: 0, accepted: 0, refused: 0, errors: 0, duplicates: 0 };
const firstErrors = [];
let latencies = [];
const seen = new Set();
let expect = null;
let stopped = false;
let http = null;
const streams = [];
const stopping = new AbortController();
const loops = [];

function noteError(what, err) {
  counters.errors++;
  if (firstErrors.length < 5) firstErrors.push(`${what}: ${err?.message ?? err}`);
}

function accepted() {
  counters.accepted++;
  if (expect && ++expect.got >= expect.n) {
    process.send({ type: 'done', at: nowEpoch(), got: expect.got });
    expect = null;
  }
}

/** One agent's calls over raw keep-alive HTTP: poll → offers, ack → outcomes, results → outcomes. */
function httpTransport(cfg, nid) {
  const base = `/${cfg.gid}/${nid}`;
  const query = `?${[...cfg.roles.map((r) => `role=${encodeURIComponent(r)}`), `timeout=${cfg.pollTimeoutS}`, `max=${cfg.maxJobs}`].join('&')}`;
  const post = async (route, items) => {
    const r = await http.request('POST', `${base}/${route}`, items);
    if (r.status !== 200) throw new Error(`HTTP ${r.status} ${r.text.slice(0, 200)}`);
    return JSON.parse(r.text);
  };
  return {
    async poll() {
      const res = await http.request('GET', `${base}/cmd${query}`, undefined, { timeoutMs: (cfg.pollTimeoutS + 30) * 1000 });
      if (res.status === 204) return [];
      if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.text.slice(0, 200)}`);
      return JSON.parse(res.text);
    },
    ack: (acks) => post('ack', acks),
    results: (batch) => post('result', batch),
  };
}

/** One agent's calls through the real agent's client, over its own stream. */
async function streamTransport(cfg, nid) {
  const { ControllerClient } = await import(pathToFileURL(join(COX_ROOT, 'dist/agent/transport/controller-client.js')).href);
  const client = new ControllerClient({ key: 'bench', url: `http://127.0.0.1:${cfg.port}`, transport: 'stream', tls: {} }, { gid: cfg.gid, nid }, cfg.pollTimeoutS * 1000);
  streams.push(client);
  return {
    poll: () => client.poll(cfg.roles, cfg.maxJobs, stopping.signal),
    ack: async (acks) => (await client.ack(acks)).map((ok) => (ok ? { ok } : { ok, code: 'COX_LEASE_INVALID' })),
    results: (batch) => client.results(batch),
  };
}

/** Results of one agent on their way: one send in flight, the rest waiting to go together. */
function resultQueue(transport) {
  const queue = [];
  let flushing = false;
  const flush = async () => {
    flushing = true;
    while (queue.length > 0 && !stopped) {
      const batch = queue.splice(0, 1000);
      try {
        for (const o of await transport.results(batch)) {
          if (o.ok) accepted();
          else (counters.refused++, noteError('result', new Error(`${o.code} ${o.message}`)));
        }
      } catch (err) {
        if (!stopped) noteError('result', err);
      }
    }
    flushing = false;
  };
  return (result) => {
    queue.push(result);
    if (!flushing) void flush();
  };
}

async function agentLoop(cfg, nid) {
  const transport = cfg.transport === 'stream' ? await streamTransport(cfg, nid) : httpTransport(cfg, nid);
  const report = resultQueue(transport);
  while (!stopped) {
    let offers;
    try {
      counters.polls++;
      offers = await transport.poll();
    } catch (err) {
      if (stopped) break;
      noteError('poll', err);
      await sleep(200);
      continue;
    }
    if (offers.length === 0) {
      counters.empty++;
      continue;
    }
    const received = nowEpoch();
    for (const offer of offers) {
      counters.offers++;
      if (typeof offer.data === 'string' && offer.data.startsWith('t:')) latencies.push(received - Number(offer.data.slice(2)));
      if (seen.has(offer.id)) counters.duplicates++;
      seen.add(offer.id);
    }
    let outcomes;
    try {
      outcomes = await transport.ack(offers.map((o) => ({ id: o.id, lease: o.lease })));
    } catch (err) {
      if (!stopped) noteError('ack', err);
      continue;
    }
    offers.forEach((offer, i) => {
      if (!outcomes[i]?.ok) return noteError('ack', new Error(`${offer.id}: ${outcomes[i]?.code}`));
      counters.acked++;
      report({ id: offer.id, gid: cfg.gid, nid, cmd: offer.cmd, data: '', level: 20, state: 'SUCCESS', starttime: Date.now(), time: 0, streams: ['', ''], critical: '', tags: offer.tags ?? '' });
    });
  }
}

process.on('message', async (msg) => {
  if (msg.type === 'start') {
    const cfg = { roles: [], pollTimeoutS: 60, rampPerSec: Infinity, maxJobs: 100, transport: 'http', ...msg };
    http = keepAliveClient(cfg.port);
    // Agents connect in slices, as a fleet coming up would, not all in the same millisecond.
    const slice = Number.isFinite(cfg.rampPerSec) ? Math.max(1, Math.round(cfg.rampPerSec / 20)) : cfg.count;
    for (let i = 0; i < cfg.count && !stopped; i++) {
      loops.push(agentLoop(cfg, cfg.first + i));
      if ((i + 1) % slice === 0 && i + 1 < cfg.count) await sleep(Number.isFinite(cfg.rampPerSec) ? 50 : 0);
    }
    process.send({ type: 'started', count: loops.length });
  } else if (msg.type === 'expect') {
    expect = { n: msg.n, got: 0 };
  } else if (msg.type === 'report') {
    process.send({ type: 'report', ...counters, firstErrors, latencies, sockets: countSockets() });
    latencies = [];
  } else if (msg.type === 'stop') {
    stopped = true;
    stopping.abort();
    http?.destroy();
    for (const c of streams) c.close();
    await Promise.race([Promise.allSettled(loops), sleep(5000)]);
    process.send({ type: 'stopped' }, () => process.exit(0));
  }
});

/** Connections to the controller: pooled HTTP sockets, plus one per streaming agent. */
function countSockets() {
  let n = streams.length;
  if (!http) return n;
  for (const list of Object.values(http.agent.sockets)) n += list.length;
  for (const list of Object.values(http.agent.freeSockets)) n += list.length;
  return n;
}

// The bench that forked us is gone: nothing left to do.
process.on('disconnect', () => process.exit(0));
