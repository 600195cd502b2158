/**
 * The launcher process: the host manager forks it once and has it start every native child.
 * fork() copies the page tables of the process that calls it and exec tears them down again, so
 * both cost in proportion to the caller's memory, and the host manager's heap holds Fastify, zod
 * and XState while this process loads nothing but node:. Being the children's parent, it also
 * hears of a crash first, and relaunches at once what the restart policy said it may
 * (launched-runs.ts).
 *
 * It ignores the signals a terminal or an init system sends the host manager's process group and
 * ends when the host manager does (its IPC channel closes), leaving the children running for the
 * next host manager to re-attach.
 */
import { LaunchedRuns } from './launched-runs.js';
import type { LauncherOrder, LauncherReport } from './orders.js';

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
process.on('disconnect', () => process.exit(0));

const runs = new LaunchedRuns((report: LauncherReport) => {
  if (process.connected) process.send!(report);
});
process.on('message', (order: LauncherOrder) => {
  if (order.type === 'launch') runs.launch(order);
  else runs.signal(order.ref, order.signal);
});
