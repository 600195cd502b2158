/**
 * The client-facing API:
 *   POST /api/jobs                 submit; 201 with the job (ERROR at once when no agent matches);
 *                                  `wait` (s) holds the reply until it ends; 409 COX_DUPLICATE_ID
 *   GET  /api/jobs?state=&limit=   newest first, without results
 *   GET  /api/jobs/:id[?wait=s]    {job, state, created, finished, results}
 *   POST /api/jobs/:id/kill        queued → KILLED at once; running → the agent is told to kill it
 *   GET  /api/jobs/:id/logs        log messages agents sent for it
 *   GET  /api/sessions             {"<gid>_<nid>": [last_seen_epoch_s, role, ...]} (JumpScale's listSessions)
 *   GET  /api/stats?gid=&nid=      a node's latest stats batch and recent history
 *   POST /api/executeJumpScript    {organization, name, gid?, nid?, role?, args?, timeout?, wait?, queue?}
 *   GET  /api/health               {ok: true}; 503 COX_STORE_UNAVAILABLE while a shared store does not answer
 * Named processes and resources are under /api/processes and /api/resources (process-routes.ts).
 */
import type { FastifyInstance } from 'fastify';
import { check } from '../../shared/validate.js';
import type { Controller } from '../controller.js';
import { executeJumpScript } from '../jumpscripts.js';
import { closeSignal } from './close-signal.js';
import { executeJumpScriptBody, getQuery, jobParams, listQuery, logsQuery, statsQuery, submitBody } from './schemas.js';

export async function clientRoutes(app: FastifyInstance, opts: { controller: Controller; scriptDir: string }): Promise<void> {
  const { controller } = opts;

  app.get('/api/health', async () => {
    await controller.store.ping();
    return { ok: true };
  });

  app.post('/api/jobs', async (req, reply) => {
    const body = check(submitBody, req.body, 'body');
    // Only a waiting submit can outlive its client; the listener costs every other submit.
    return reply.code(201).send(await controller.submit(body, body.wait ? closeSignal(reply) : undefined));
  });

  app.get('/api/jobs', async (req) => {
    const { state, limit } = check(listQuery, req.query, 'query');
    return controller.list({ ...(state ? { state } : {}), limit: limit ?? 100 });
  });

  app.get('/api/jobs/:id', async (req, reply) => {
    const { id } = check(jobParams, req.params, 'path');
    const { wait } = check(getQuery, req.query, 'query');
    return controller.get(id, (wait ?? 0) * 1000, wait ? closeSignal(reply) : undefined);
  });

  app.post('/api/jobs/:id/kill', async (req) => {
    const { id } = check(jobParams, req.params, 'path');
    return controller.kill(id);
  });

  app.get('/api/jobs/:id/logs', async (req) => {
    const { id } = check(jobParams, req.params, 'path');
    const { limit } = check(logsQuery, req.query, 'query');
    await controller.get(id);
    return controller.store.logs({ id, limit: limit ?? 1000 });
  });

  app.get('/api/sessions', async () => controller.sessions());

  app.get('/api/stats', async (req) => controller.store.stats(check(statsQuery, req.query, 'query')));

  app.post('/api/executeJumpScript', async (req, reply) => {
    const body = check(executeJumpScriptBody, req.body, 'body');
    return reply.code(201).send(await executeJumpScript(controller, opts.scriptDir, body, closeSignal(reply)));
  });
}
