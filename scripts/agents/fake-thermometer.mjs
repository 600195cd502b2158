#!/usr/bin/env node
// Example agent: a pretend cryogenic thermometer. Every --period seconds it prints one JSON line
// per channel, a slow random walk; the unit comes from $THERMO_UNITS (K or C, default K).
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { channels: { type: 'string', default: '2' }, period: { type: 'string', default: '2' } },
});
const unit = process.env.THERMO_UNITS === 'C' ? 'C' : 'K';
const base = unit === 'C' ? -269.15 : 4.0;
const readings = Array.from({ length: Number(values.channels) }, () => base);

console.log(`thermometer started: ${readings.length} channels, unit ${unit}, pid ${process.pid}`);
setInterval(() => {
  readings.forEach((value, channel) => {
    readings[channel] = value + (Math.random() - 0.5) * 0.02;
    const reading = { time: new Date().toISOString(), channel, value: Number(readings[channel].toFixed(4)), unit };
    console.log(JSON.stringify(reading));
  });
}, Number(values.period) * 1000);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    console.log(`thermometer stopping on ${signal}`);
    process.exit(0);
  });
}
