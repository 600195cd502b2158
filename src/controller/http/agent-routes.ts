/**
 * The agent-facing protocol (REFERENCE 2.1, with acknowledged hand-off):
 *   GET  /{gid}/{nid}/cmd?role=a&role=b[&timeout=s]  long poll: 200 one Offer (job + lease), or 204
 *   POST /{gid}/{nid}/ack     {id, lease}   confirms an offer; 409 COX_LEASE_INVALID if stale
 *   POST /{gid}/{nid}/result  Result        404 COX_NOT_FOUND for a job this node was not given
 *   POST /{gid}/{nid}/log     LogMessage[]
 *   POST /{gid}/{nid}/stats   StatsBatch
 *   POST /{gid}/{nid}/event   AgentEvent, e.g. {"name": "startup"}
 *   GET  /script?hash=<sha256>  a jumpscript's text
 * (named processes add POST /{gid}/{nid}/processes/finished: see process-routes.ts).
 * Every report counts as a sign of life, so a node too busy to poll is not declared lost.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ack, agentEvent, logBatch, result, statsBatch } from '../../protocol/job.js';
import { Errors } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import type { Controller } from '../controller.js';
import type { NodeKey } from '../store/job-store.js';
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
    const { role, timeout } = check(pollQuery, req.query, 'query');
    const offer = await controller.poll(n, role, timeout === undefined ? Infinity : timeout * 1000, closeSignal(reply));
    return offer ? offer : reply.code(204).send();
  });

  app.post('/:gid/:nid/ack', async (req) => {
    const n = await reported(req);
    const body = check(ack, req.body, 'body');
    await controller.ack(n, body.id, body.lease);
    return { id: body.id, state: 'RUNNING' };
  });

  app.post('/:gid/:nid/result', async (req) => {
    const n = await reported(req);
    const body = check(result, req.body, 'body');
    await controller.result(n, body);
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
