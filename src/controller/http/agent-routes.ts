/**
 * The agent-facing protocol (REFERENCE 2.1, with acknowledged hand-off):
 *   GET  /{gid}/{nid}/cmd?role=a&role=b[&timeout=s][&max=n]
 *        long poll. Without `max`: 200 one Offer (job + lease), as JumpScale's agents expect.
 *        With `max` (1–1000): 200 an array of 1 to n Offers, leased together, in queue order.
 *        204 when the wait ends with nothing to offer.
 *   POST /{gid}/{nid}/ack     {id, lease}   confirms an offer; 409 COX_LEASE_INVALID if stale
 *   POST /{gid}/{nid}/result  Result        404 COX_NOT_FOUND for a job this node was not given
 *   POST /{gid}/{nid}/log     LogMessage[]
 *   POST /{gid}/{nid}/stats   StatsBatch
 *   POST /{gid}/{nid}/event   AgentEvent, e.g. {"name": "startup"}
 *   GET  /script?hash=<sha256>  a jumpscript's text
 * `ack` and `result` also take an array (1–1000 items), stored in one transaction and answered
 * 200 with one outcome per item, in order: {id, ok: true}, or {id, ok: false, code, message}
 * with what the single post would have answered, so one stale lease does not fail the others.
 * One poll, one ack and one result post per batch instead of per job is most of what a job costs.
 * (named processes add POST /{gid}/{nid}/processes/finished: see process-routes.ts).
 * Every report counts as a sign of life, so a node too busy to poll is not declared lost.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ack, ackBatch, agentEvent, logBatch, result, resultBatch, statsBatch } from '../../protocol/job.js';
import { Errors } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import type { Controller } from '../controller.js';
import { nodeName, type NodeKey } from '../store/job-store.js';
import { nodeParams, pollQuery, scriptQuery } from './schemas.js';
import { closeSignal } from './close-signal.js';

/** Stats batches kept per node, the newest. */
export const STATS_HISTORY = 100;

export async function agentRoutes(app: FastifyInstance, { controller }: { controller: Controller }): Promise<void> {
  const node = (req: FastifyRequest): NodeKey => check(nodeParams, req.params, 'path');
  const reported = async (req: FastifyRequest) => {
    const n = node(req);
    await controller.sawAgent(n);
    return n;
  };

  app.get('/:gid/:nid/cmd', async (req, reply) => {
    const n = node(req);
    const { role, timeout, max } = check(pollQuery, req.query, 'query');
    const offers = await controller.poll(n, role, timeout === undefined ? Infinity : timeout * 1000, closeSignal(reply), max ?? 1);
    if (offers.length === 0) return reply.code(204).send();
    return max === undefined ? offers[0] : offers;
  });

  app.post('/:gid/:nid/ack', async (req) => {
    const n = await reported(req);
    if (Array.isArray(req.body)) return controller.ack(n, check(ackBatch, req.body, 'body'));
    const body = check(ack, req.body, 'body');
    const [outcome] = await controller.ack(n, [body]);
    if (!outcome!.ok) throw Errors.LEASE_INVALID(body.id);
    return { id: body.id, state: 'RUNNING' };
  });

  app.post('/:gid/:nid/result', async (req) => {
    const n = await reported(req);
    if (Array.isArray(req.body)) return controller.result(n, check(resultBatch, req.body, 'body'));
    const body = check(result, req.body, 'body');
    const [outcome] = await controller.result(n, [body]);
    if (!outcome!.ok) throw Errors.NOT_FOUND(`job "${body.id}" for agent ${nodeName(n)}`);
    return { id: body.id, accepted: true };
  });

  app.post('/:gid/:nid/log', async (req) => {
    const n = await reported(req);
    const messages = check(logBatch, req.body, 'body');
    await controller.store.appendLogs(n, messages, controller.now());
    return { accepted: messages.length };
  });

  app.post('/:gid/:nid/stats', async (req) => {
    const n = await reported(req);
    const batch = check(statsBatch, req.body, 'body');
    await controller.store.putStats(n, batch, controller.now(), STATS_HISTORY);
    return { accepted: true };
  });

  app.post('/:gid/:nid/event', async (req) => {
    const n = await reported(req);
    await controller.event(n, check(agentEvent, req.body, 'body'));
    return { accepted: true };
  });

  app.get('/script', async (req, reply) => {
    const { hash } = check(scriptQuery, req.query, 'query');
    const text = await controller.store.script(hash);
    if (text === null) throw Errors.NOT_FOUND(`script ${hash}`);
    return reply.type('text/plain; charset=utf-8').send(text);
  });
}
