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
import { Errors } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import type { StreamHandler } from '../../stream/connection.js';
import { reportAcks, reportEvent, reportLogs, reportProcessExits, reportResults, reportStats, scriptText } from '../agent-reports.js';
import type { Controller } from '../controller.js';
import { executeJumpScriptBody, scriptQuery, streamGetBody, streamIdBody, streamPollBody, submitBody } from '../http/schemas.js';
import { executeJumpScript } from '../jumpscripts.js';
import type { NodeKey } from '../store/job-store.js';

type Op = (body: unknown, signal: AbortSignal) => Promise<unknown>;

export function clientOps(controller: Controller, scriptDir: string): StreamHandler {
  return handlerOf({
    submit: (body, signal) => controller.submit(check(submitBody, body, 'body'), signal),
    get: (body, signal) => {
      const { id, wait } = check(streamGetBody, body, 'body');
      return controller.get(id, (wait ?? 0) * 1000, signal);
    },
    kill: async (body) => controller.kill(check(streamIdBody, body, 'body').id),
    sessions: () => controller.sessions(),
    executeJumpScript: (body, signal) => executeJumpScript(controller, scriptDir, check(executeJumpScriptBody, body, 'body'), signal),
  });
}

export function agentOps(controller: Controller, node: NodeKey): StreamHandler {
  return handlerOf({
    poll: (body, signal) => {
      const { role, max, timeout } = check(streamPollBody, body, 'body');
      return controller.poll(node, role, timeout === undefined ? Infinity : timeout * 1000, signal, max);
    },
    ack: (body) => reportAcks(controller, node, body),
    result: (body) => reportResults(controller, node, body),
    log: (body) => reportLogs(controller, node, body),
    stats: (body) => reportStats(controller, node, body),
    event: (body) => reportEvent(controller, node, body),
    'processes.finished': (body) => reportProcessExits(controller, node, body),
    script: (body) => scriptText(controller, check(scriptQuery, body, 'body').hash),
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
