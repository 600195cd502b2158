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
import { ack, result } from '../../protocol/job.js';
import { Errors } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import { reportAcks, reportEvent, reportLogs, reportResults, reportStats, scriptText } from '../agent-reports.js';
import type { Controller } from '../controller.js';
import { nodeName, type NodeKey } from '../store/job-store.js';
import { nodeParams, pollQuery, scriptQuery } from './schemas.js';
import { closeSignal } from './close-signal.js';

export async function agentRoutes(app: FastifyInstance, { controller }: { controller: Controller }): Promise<void> {
  const node = (req: FastifyRequest): NodeKey => check(nodeParams, req.params, 'path');

  app.get('/:gid/:nid/cmd', async (req, reply) => {
    const n = node(req);
    const { role, timeout, max } = check(pollQuery, req.query, 'query');
    const offers = await controller.poll(n, role, timeout === undefined ? Infinity : timeout * 1000, closeSignal(reply), max ?? 1);
    if (offers.length === 0) return reply.code(204).send();
    return max === undefined ? offers[0] : offers;
  });

  // JumpScale's agents post one item; the batch form is the same report as over a stream.
  app.post('/:gid/:nid/ack', async (req) => {
    const n = node(req);
    if (Array.isArray(req.body)) return reportAcks(controller, n, req.body);
    await controller.sawAgent(n);
    const body = check(ack, req.body, 'body');
    const [outcome] = await controller.ack(n, [body]);
    if (!outcome!.ok) throw Errors.LEASE_INVALID(body.id);
    return { id: body.id, state: 'RUNNING' };
  });

  app.post('/:gid/:nid/result', async (req) => {
    const n = node(req);
    if (Array.isArray(req.body)) return reportResults(controller, n, req.body);
    await controller.sawAgent(n);
    const body = check(result, req.body, 'body');
    const [outcome] = await controller.result(n, [body]);
    if (!outcome!.ok) throw Errors.NOT_FOUND(`job "${body.id}" for agent ${nodeName(n)}`);
    return { id: body.id, accepted: true };
  });

  app.post('/:gid/:nid/log', async (req) => reportLogs(controller, node(req), req.body));
  app.post('/:gid/:nid/stats', async (req) => reportStats(controller, node(req), req.body));
  app.post('/:gid/:nid/event', async (req) => reportEvent(controller, node(req), req.body));

  app.get('/script', async (req, reply) => {
    const { hash } = check(scriptQuery, req.query, 'query');
    return reply.type('text/plain; charset=utf-8').send(await scriptText(controller, hash));
  });
}
