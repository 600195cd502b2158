/**
 * V8 flags each daemon is run with (by the systemd units, scripts/run.sh and the benchmarks).
 * The host manager allocates in bursts (a thousand children coming up at once) and then idles for
 * months: at the default, V8 keeps a young generation grown to 16 MB per semi-space committed
 * ever after, ~25 MB of a 1,000-child host manager's 140 MB. Two MB cost a few more scavenges
 * during the burst. The controller and agent allocate per request and keep the default.
 */
import type { Component } from './unit.js';

export const NODE_FLAGS: Record<Component, readonly string[]> = {
  hostmanager: ['--max-semi-space-size=2'],
  controller: [],
  agent: [],
};
