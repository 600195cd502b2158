#!/usr/bin/env node
// Example agent that keeps falling over: it works for a random time between --min-life and
// --max-life seconds (default 20-40), then exits with code 1, so the host manager's relaunch,
// backoff and stability can be watched. A stop request is still honoured with exit code 0.
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { 'min-life': { type: 'string', default: '20' }, 'max-life': { type: 'string', default: '40' } },
});
const min = Number(values['min-life']);
const max = Number(values['max-life']);
const lifeS = min + Math.random() * (max - min);

console.log(`flaky agent started, pid ${process.pid}; will crash in ${lifeS.toFixed(1)} s`);
setInterval(() => console.log('flaky agent working'), 5000);
setTimeout(() => {
  console.error(`flaky agent: simulated crash after ${lifeS.toFixed(1)} s`);
  process.exit(1);
}, lifeS * 1000);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    console.log(`flaky agent stopping on ${signal}`);
    process.exit(0);
  });
}
