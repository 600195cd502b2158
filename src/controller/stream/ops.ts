/**
 * What a stream may call: the hot part of the client API and all of the agent protocol, with the
 * same validation and the same answers as their HTTP routes (client-routes.ts, agent-routes.ts).
 *
 * Clients (`/api/stream`):
 *   submit              the body of POST /api/jobs (with `wait`)        → the job
 *   get                 {id, wait?}                                     → the job
 *   kill                {id}                                            → the job
 *   sessions                                                            → listSessions
 *   executeJumpScript   the body of POST /api/executeJumpScript         → the job
 * Agents (`/{gid}/{nid}/stream`, the node fixed by the path and its certificate):
 *   poll                {role: [..], max: n, timeout?: s}               → [Offer, ...], [] at the timeout
 *   ack                 [Ack, ...]                                      → [outcome, ...]
 *   result              [Result, ...]                                   → [outcome, ...]
 *   log, stats, event   as POST /{gid}/{nid}/log, /stats, /event
 *   processes.finished  ProcessExit[]                                   → {acknowledged: [id, ...]}
 *   script              {hash}                                          → the script's text
 */
import { ackBatch, agentEvent, logBatch, resultBatch, statsBatch } from '../../protocol/job.js';
import { processExits } from '../../protocol/process.js';
import { Errors } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import type { Controller } from '../controller.js';
import { STATS_HISTORY } from '../http/agent-routes.js';
import { executeJumpScriptBody, scriptQuery, streamGetBody, streamIdBody, streamPollBody, submitBody } from '../http/schemas.js';
import { executeJumpScript } from '../jumpscripts.js';
import type { NodeKey } from '../store/job-store.js';
import type { StreamHandler } from '../../stream/connection.js';

type Op = (body: unknown, signal: AbortSignal) => Promise<unknown>;

export function clientOps(controller: Controller, scriptDir: string): StreamHandler {
  return handlerOf({
    submit: (body, signal) => controller.submit(check(submitBody, body, 'body'), signal),
    get: async (body, signal) => {
      const { id, wait } = check(streamGetBody, body, 'body');
      if (!wait) return controller.get(id);
      return (await controller.waitFor(id, wait * 1000, signal)) ?? controller.get(id);
    },
    kill: async (body) => controller.kill(check(streamIdBody, body, 'body').id),
    sessions: () => controller.sessions(),
    executeJumpScript: (body, signal) => executeJumpScript(controller, scriptDir, check(executeJumpScriptBody, body, 'body'), signal),
  });
}

export function agentOps(controller: Controller, node: NodeKey): StreamHandler {
  /** Every report counts as a sign of life, as over HTTP. */
  const reported = <T>(fn: (body: unknown) => Promise<T>): Op => async (body) => {
    await controller.sawAgent(node);
    return fn(body);
  };
  return handlerOf({
    poll: (body, signal) => {
      const { role, max, timeout } = check(streamPollBody, body, 'body');
      return controller.poll(node, role, timeout === undefined ? Infinity : timeout * 1000, signal, max);
    },
    ack: reported((body) => controller.ack(node, check(ackBatch, body, 'body'))),
    result: reported((body) => controller.result(node, check(resultBatch, body, 'body'))),
    log: reported(async (body) => {
      const messages = check(logBatch, body, 'body');
      await controller.store.appendLogs(node, messages, controller.now());
      return { accepted: messages.length };
    }),
    stats: reported(async (body) => {
      await controller.store.putStats(node, check(statsBatch, body, 'body'), controller.now(), STATS_HISTORY);
      return { accepted: true };
    }),
    event: reported(async (body) => {
      await controller.event(node, check(agentEvent, body, 'body'));
      return { accepted: true };
    }),
    'processes.finished': reported(async (body) => ({ acknowledged: await controller.processes.report(node, check(processExits, body, 'body')) })),
    script: async (body) => {
      const { hash } = check(scriptQuery, body, 'body');
      const text = await controller.store.script(hash);
      if (text === null) throw Errors.NOT_FOUND(`script ${hash}`);
      return text;
    },
  });
}

function handlerOf(ops: Record<string, Op>): StreamHandler {
  const known = Object.keys(ops).join(', ');
  return (op, body, signal) => {
    const fn = Object.hasOwn(ops, op) ? ops[op] : undefined;
    if (!fn) return Promise.reject(Errors.NOT_FOUND(`operation "${op}" (this stream has: ${known})`));
    return fn(body, signal);
  };
}
