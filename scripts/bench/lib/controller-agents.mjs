// Simulated node agents for the controller bench, run as a child process (child_process.fork)
// so that the agents, like real ones, are not in the client's process. Each simulated agent
// speaks the real agent protocol over keep-alive HTTP: long poll `/{gid}/{nid}/cmd`, acknowledge
// the lease, then post a SUCCESS result in the background and poll again at once — the order the
// real agent uses (src/agent/transport/poller.ts: the next poll starts after the ack, results go
// out through the delivery queue). The job itself is a no-op.
//
// A job whose `data` is `t:<epoch ms>` (the submitter's clock) is timed: submit → this poll's
// answer, the dispatch latency. performance.timeOrigin + now() is the same clock in every
// process on the machine.
//
// IPC, parent → child:
//   {type:'start', port, gid, first, count, roles, pollTimeoutS, rampPerSec, resultCap}
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

async function agentLoop(cfg, nid) {
  const base = `/${cfg.gid}/${nid}`;
  const query = `?${[...cfg.roles.map((r) => `role=${encodeURIComponent(r)}`), `timeout=${cfg.pollTimeoutS}`].join('&')}`;
  const pending = new Set();
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
    const offer = JSON.parse(res.text);
    counters.offers++;
    if (typeof offer.data === 'string' && offer.data.startsWith('t:')) latencies.push(received - Number(offer.data.slice(2)));
    if (seen.has(offer.id)) counters.duplicates++;
    seen.add(offer.id);
    try {
      const ack = await client.request('POST', `${base}/ack`, { id: offer.id, lease: offer.lease });
      if (ack.status !== 200) {
        noteError('ack', new Error(`HTTP ${ack.status} ${ack.text.slice(0, 200)}`));
        continue;
      }
      counters.acked++;
    } catch (err) {
      if (!stopped) noteError('ack', err);
      continue;
    }
    const body = { id: offer.id, gid: cfg.gid, nid, cmd: offer.cmd, data: '', level: 20, state: 'SUCCESS', starttime: Date.now(), time: 0, streams: ['', ''], critical: '', tags: offer.tags ?? '' };
    const p = client.request('POST', `${base}/result`, body).then(
      (r) => (r.status === 200 ? accepted() : (counters.refused++, noteError('result', new Error(`HTTP ${r.status} ${r.text.slice(0, 200)}`)))),
      (err) => stopped || noteError('result', err),
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
    // Bounded like the real agent's delivery queue: a slow controller slows the agent down.
    if (pending.size >= cfg.resultCap) await Promise.race(pending);
  }
}

process.on('message', async (msg) => {
  if (msg.type === 'start') {
    const cfg = { roles: [], pollTimeoutS: 60, rampPerSec: Infinity, resultCap: 32, ...msg };
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
