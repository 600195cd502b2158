#!/usr/bin/env node
// Example agent: prints a heartbeat line every --interval seconds (default 5) until stopped.
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { interval: { type: 'string', default: '5' } } });
const intervalMs = Number(values.interval) * 1000;

let beats = 0;
console.log(`heartbeat agent started, pid ${process.pid}, every ${values.interval} s`);
setInterval(() => console.log(`beat ${++beats} at ${new Date().toISOString()}`), intervalMs);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    console.log(`heartbeat agent stopping on ${signal} after ${beats} beats`);
    process.exit(0);
  });
}
