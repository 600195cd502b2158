/**
 * Named processes over HTTP (REFERENCE 3):
 *   POST /api/processes            start {node, name, work_dir, args, env?, stdout, stderr}; 201
 *                                  {id, node, name}; 404 COX_NODE_UNKNOWN, 409 COX_NAME_RUNNING
 *   GET  /api/processes?limit=     every process, newest first, with its state (cox ps)
 *   POST /api/processes/cancel_all kill every process group the agents started
 *   POST /api/processes/finished   {key?, wait?} get_finished: [{id, node, name, exit_code,
 *                                  reason, ended}], each process once; the same `key` again
 *                                  answers the same batch (a retry after a lost reply)
 *   GET  /api/resources            {"<gid>_<nid>": [[hwthread, ...] per core]} of connected nodes
 * and for agents:
 *   POST /{gid}/{nid}/processes/finished  ProcessExit[]; answers {acknowledged: [id, ...]}
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { processSpec } from '../../protocol/process.js';
import { check } from '../../shared/validate.js';
import { reportProcessExits } from '../agent-reports.js';
import type { Controller } from '../controller.js';
import { closeSignal } from './close-signal.js';
import { nodeParams } from './schemas.js';

/** The node first, so a call with everything wrong is told about it first. */
const startBody = z.strictObject({
  node: z.string({ error: (i) => (i.input === undefined ? 'required: the node name <gid>_<nid>' : 'expected a node name <gid>_<nid>') }),
  ...processSpec.shape,
});
const finishedBody = z
  .strictObject({
    key: z.string().min(1).max(200).optional(),
    /** Seconds to wait for the first finished process when there is none. */
    wait: z.number().min(0).max(3600).optional(),
  })
  .default({});
const listQuery = z.object({
  limit: z.string().regex(/^\d+$/, 'expected a positive integer').transform(Number).pipe(z.number().int().min(1).max(100_000)).optional(),
});

export async function processRoutes(app: FastifyInstance, { controller }: { controller: Controller }): Promise<void> {
  const processes = controller.processes;

  app.post('/api/processes', async (req, reply) => reply.code(201).send(await processes.start(check(startBody, req.body, 'body'))));

  app.get('/api/processes', async (req) => processes.list(check(listQuery, req.query, 'query').limit ?? 1000));

  app.post('/api/processes/cancel_all', async () => processes.cancelAll());

  app.post('/api/processes/finished', async (req, reply) => {
    const { key, wait } = check(finishedBody, req.body ?? undefined, 'body');
    return processes.take(key ?? randomUUID(), (wait ?? 0) * 1000, closeSignal(reply));
  });

  app.get('/api/resources', async () => processes.resources());

  app.post('/:gid/:nid/processes/finished', async (req) => reportProcessExits(controller, check(nodeParams, req.params, 'path'), req.body));
}
