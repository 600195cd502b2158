// A BullMQ Worker with a no-op processor, run as a child process (the peer of the simulated
// agents in controller-agents.mjs, with the same IPC):
//   {type:'start', connection, queue, concurrency}  → {type:'started'}
//   {type:'expect', n}  → {type:'done', at} once n more jobs completed (the worker's 'completed'
//                         event: moveToFinished went through, the result is in Redis)
//   {type:'report'}     → {type:'report', completed, failed, errors, firstErrors}
//   {type:'stop'}       → worker.close(), {type:'stopped'}, exit
import { loadBullmq } from './bullmq.mjs';
import { sleep, withTimeout } from './util.mjs';

const nowEpoch = () => performance.timeOrigin + performance.now();
const counters = { completed: 0, failed: 0, errors: 0 };
const firstErrors = [];
let expect = null;
let worker = null;

process.on('message', async (msg) => {
  if (msg.type === 'start') {
    const { Worker } = loadBullmq();
    worker = new Worker(msg.queue, async () => {}, { connection: msg.connection, concurrency: msg.concurrency });
    worker.on('completed', () => {
      counters.completed++;
      if (expect && ++expect.got >= expect.n) {
        process.send({ type: 'done', at: nowEpoch(), got: expect.got });
        expect = null;
      }
    });
    worker.on('failed', () => counters.failed++);
    worker.on('error', (err) => {
      counters.errors++;
      if (firstErrors.length < 5) firstErrors.push(err.message);
    });
    await worker.waitUntilReady();
    process.send({ type: 'started' });
  } else if (msg.type === 'expect') {
    expect = { n: msg.n, got: 0 };
  } else if (msg.type === 'report') {
    process.send({ type: 'report', ...counters, firstErrors });
  } else if (msg.type === 'stop') {
    await withTimeout(worker?.close() ?? Promise.resolve(), 5000, 'worker.close()').catch(() => sleep(0));
    process.send({ type: 'stopped' }, () => process.exit(0));
  }
});

process.on('disconnect', () => process.exit(0));
