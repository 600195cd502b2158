/**
 * What an agent reports — acknowledgements, results, logs, stats, events, ends of named
 * processes — validated, stored and answered the same whether it came over HTTP
 * (http/agent-routes.ts, http/process-routes.ts) or a stream (stream/ops.ts). Every report counts
 * as a sign of life, so a node too busy to poll is not declared lost.
 */
import { ackBatch, agentEvent, logBatch, resultBatch, statsBatch, type BatchOutcome } from '../protocol/job.js';
import { processExits } from '../protocol/process.js';
import { Errors } from '../shared/errors.js';
import { check } from '../shared/validate.js';
import type { Controller } from './controller.js';
import type { NodeKey } from './store/job-store.js';

/** Stats batches kept per node, the newest. */
export const STATS_HISTORY = 100;

export async function reportAcks(controller: Controller, node: NodeKey, body: unknown): Promise<BatchOutcome[]> {
  await controller.sawAgent(node);
  return controller.ack(node, check(ackBatch, body, 'body'));
}

export async function reportResults(controller: Controller, node: NodeKey, body: unknown): Promise<BatchOutcome[]> {
  await controller.sawAgent(node);
  return controller.result(node, check(resultBatch, body, 'body'));
}

export async function reportLogs(controller: Controller, node: NodeKey, body: unknown): Promise<{ accepted: number }> {
  await controller.sawAgent(node);
  const messages = check(logBatch, body, 'body');
  await controller.store.appendLogs(node, messages, controller.now());
  return { accepted: messages.length };
}

export async function reportStats(controller: Controller, node: NodeKey, body: unknown): Promise<{ accepted: true }> {
  await controller.sawAgent(node);
  await controller.store.putStats(node, check(statsBatch, body, 'body'), controller.now(), STATS_HISTORY);
  return { accepted: true };
}

export async function reportEvent(controller: Controller, node: NodeKey, body: unknown): Promise<{ accepted: true }> {
  await controller.sawAgent(node);
  await controller.event(node, check(agentEvent, body, 'body'));
  return { accepted: true };
}

export async function reportProcessExits(controller: Controller, node: NodeKey, body: unknown): Promise<{ acknowledged: string[] }> {
  await controller.sawAgent(node);
  return { acknowledged: await controller.processes.report(node, check(processExits, body, 'body')) };
}

/** A jumpscript's text by its hash, as agents fetch it. */
export async function scriptText(controller: Controller, hash: string): Promise<string> {
  const text = await controller.store.script(hash);
  if (text === null) throw Errors.NOT_FOUND(`script ${hash}`);
  return text;
}
