// What no controller on this machine can go under, measured in the controller bench's run
// (controller-bench.mjs, part "floor"), run as a child process so it has a core of its own:
//
//   echo:  echoes newline-delimited messages on a TCP connection to 127.0.0.1, so the bench can
//          time a bare message round trip between two Node processes (a job needs three: submit
//          and its answer, offer and its ack, the ack's answer and the result).
//   store: drives the controller's SQLite store (dist/, a fresh file) through a job's writes —
//          submitted already offered, acknowledged, ended — with nothing else: no sockets, no
//          parsing, no validation. `batch` 1 commits each write on its own, as with one job in
//          flight; 64 groups them as the controller does under load.
//
// IPC, parent → child:
//   {type:'echo', port}                    connect and echo; answers {type:'echoing'}
//   {type:'store', path, batch, jobs}      answers {type:'store', cpu_us_per_job, wall_us_per_job}
//   {type:'stop'}                          answers {type:'stopped'} and exits
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { COX_ROOT } from './coxswain.mjs';

const NODE = { gid: 1, nid: 1 };
let echo = null;

function startEcho(port) {
  echo = net.connect(port, '127.0.0.1');
  echo.setNoDelay(true);
  echo.on('data', (chunk) => echo.write(chunk));
  return new Promise((resolve, reject) => echo.once('connect', resolve).once('error', reject));
}

async function driveStore({ path, batch, jobs }) {
  const dist = (p) => import(pathToFileURL(join(COX_ROOT, 'dist', p)).href);
  const { SqliteJobStore } = await dist('controller/store/sqlite-store.js');
  const { uuid7 } = await dist('shared/uuid7.js');
  const store = SqliteJobStore.open(path);
  const job = (id) => ({ id, cmd: 'noop', gid: NODE.gid, nid: NODE.nid, roles: [], fanout: false, tags: '', data: '', args: {} });
  const result = (id) => ({ id, gid: NODE.gid, nid: NODE.nid, cmd: 'noop', data: '', level: 20, state: 'SUCCESS', starttime: 0, time: 0, streams: ['', ''], critical: '', tags: '' });
  // The cheapest path a job takes: handed straight to a waiting poll when it is stored (already
  // offered), then acknowledged, then ended. Three commits apart, or three grouped writes.
  const round = async () => {
    const leases = Array.from({ length: batch }, () => ({ id: uuid7(), lease: randomUUID() }));
    const expiresAt = Date.now() + 60_000;
    await Promise.all(leases.map(({ id, lease }) => store.create({ job: job(id), targets: [NODE], offer: { lease, expiresAt } }, Date.now())));
    const acked = await store.ack(NODE, leases, Date.now());
    if (!acked.every(Boolean)) throw new Error('store floor: an ack was refused');
    await store.complete(NODE, leases.map(({ id }) => result(id)), Date.now());
  };
  try {
    for (let i = 0; i < Math.min(jobs, 2000); i += batch) await round();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < jobs; i += batch) await round();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const n = Math.ceil(jobs / batch) * batch;
    return { cpu_us_per_job: (cpu.user + cpu.system) / n, wall_us_per_job: (wall * 1000) / n };
  } finally {
    await store.close();
  }
}

process.on('message', async (msg) => {
  try {
    if (msg.type === 'echo') {
      await startEcho(msg.port);
      process.send({ type: 'echoing' });
    } else if (msg.type === 'store') {
      process.send({ type: 'store', ...(await driveStore(msg)) });
    } else if (msg.type === 'stop') {
      echo?.destroy();
      process.send({ type: 'stopped' }, () => process.exit(0));
    }
  } catch (err) {
    console.error(`floors: ${err.stack ?? err}`);
    process.exit(1);
  }
});

process.on('disconnect', () => process.exit(0));
