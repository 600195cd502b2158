// Simulated node agents for the controller bench, run as a child process (child_process.fork)
// so that the agents, like real ones, are not in the client's process. Each simulated agent
// speaks what the real agent speaks over keep-alive HTTP (src/agent/transport/): long poll
// `/{gid}/{nid}/cmd?max=<free slots>` for an array of offers, acknowledge all offers of one poll
// in one batched ack, then poll again at once while the results go out through a per-agent
// queue that posts at once when idle and coalesces what arrives during a post into the next
// batched post (src/agent/transport/result-queue.ts). The job itself is a no-op, so every slot is
// free again by the next poll: max is always `maxJobs` (agent2's default max_jobs, 100).
//
// A job whose `data` is `t:<epoch ms>` (the submitter's clock) is timed: submit → this poll's
// answer, the dispatch latency. performance.timeOrigin + now() is the same clock in every
// process on the machine.
//
// IPC, parent → child:
//   {type:'start', port, gid, first, count, roles, pollTimeoutS, rampPerSec, maxJobs?}
//   {type:'expect', n}   send {type:'done', at} once n more results have been accepted
//   {type:'report'}      answer {type:'report', ...counters, latencies}; latencies are then cleared
//   {type:'stop'}        end every poll, answer {type:'stopped'} and exit
import { keepAliveClient } from './controller.mjs';
import { sleep } from './util.mjs';

const nowEpoch = () => performance.timeOrigin + performance.now();

const counters = { polls: 0, empty: 0, offers: 0, acked: 0, accepted: 0, refused: 0, errors: 0, duplicates: 0 };
const firstErrors = [];
let latencies = [];
const seen = new Set();
let expect = null;
let stopped = false;
let client = null;
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

/** Results of one agent on their way: one post in flight, the rest waiting to go together. */
function resultQueue(base) {
  const queue = [];
  let flushing = false;
  const flush = async () => {
    flushing = true;
    while (queue.length > 0 && !stopped) {
      const batch = queue.splice(0, 1000);
      try {
        const r = await client.request('POST', `${base}/result`, batch);
        if (r.status !== 200) throw new Error(`HTTP ${r.status} ${r.text.slice(0, 200)}`);
        for (const o of JSON.parse(r.text)) {
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
  const base = `/${cfg.gid}/${nid}`;
  const query = `?${[...cfg.roles.map((r) => `role=${encodeURIComponent(r)}`), `timeout=${cfg.pollTimeoutS}`, `max=${cfg.maxJobs}`].join('&')}`;
  const report = resultQueue(base);
  while (!stopped) {
    let res;
    try {
      counters.polls++;
      res = await client.request('GET', `${base}/cmd${query}`, undefined, { timeoutMs: (cfg.pollTimeoutS + 30) * 1000 });
    } catch (err) {
      if (stopped) break;
      noteError('poll', err);
      await sleep(200);
      continue;
    }
    if (res.status === 204) {
      counters.empty++;
      continue;
    }
    if (res.status !== 200) {
      noteError('poll', new Error(`HTTP ${res.status} ${res.text.slice(0, 200)}`));
      await sleep(200);
      continue;
    }
    const received = nowEpoch();
    const offers = JSON.parse(res.text);
    for (const offer of offers) {
      counters.offers++;
      if (typeof offer.data === 'string' && offer.data.startsWith('t:')) latencies.push(received - Number(offer.data.slice(2)));
      if (seen.has(offer.id)) counters.duplicates++;
      seen.add(offer.id);
    }
    let outcomes;
    try {
      const ack = await client.request('POST', `${base}/ack`, offers.map((o) => ({ id: o.id, lease: o.lease })));
      if (ack.status !== 200) {
        noteError('ack', new Error(`HTTP ${ack.status} ${ack.text.slice(0, 200)}`));
        continue;
      }
      outcomes = JSON.parse(ack.text);
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
    const cfg = { roles: [], pollTimeoutS: 60, rampPerSec: Infinity, maxJobs: 100, ...msg };
    client = keepAliveClient(cfg.port);
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
    client?.destroy();
    await Promise.race([Promise.allSettled(loops), sleep(5000)]);
    process.send({ type: 'stopped' }, () => process.exit(0));
  }
});

function countSockets() {
  if (!client) return 0;
  let n = 0;
  for (const list of Object.values(client.agent.sockets)) n += list.length;
  for (const list of Object.values(client.agent.freeSockets)) n += list.length;
  return n;
}

// The bench that forked us is gone: nothing left to do.
process.on('disconnect', () => process.exit(0));
