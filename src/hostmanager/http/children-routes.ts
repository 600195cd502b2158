/**
 * Read-only views of the children for operators and `cox`:
 * - `GET /api/children`                 every child's state, the manager's status, the configured
 *                                        instance-ids, parse status
 * - `GET /api/children/:id`             one child (404 if unknown)
 * Logs are in logs-routes.ts. Changing targets goes through the `update` op, as in OCS.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Errors } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import type { HostManager } from '../host-manager.js';

const idParams = z.object({ id: z.string().min(1) });

export async function childrenRoutes(app: FastifyInstance, opts: { hm: HostManager }): Promise<void> {
  const { hm } = opts;

  app.get('/api/children', async () => {
    const manager = hm.registry.session('manager');
    return {
      host: hm.config.current?.host ?? null,
      instance_id: hm.instanceId,
      manager: { running: hm.registry.isRunning('manager'), status: manager?.status ?? null, success: manager?.success ?? null },
      children: hm.supervisor.states(),
      // A stopped manager has no children, yet `cox up <id>` must still find the host manager of <id>.
      configured: (hm.config.current?.instances ?? []).filter((i) => i.manage !== 'ignore').map((i) => i.instanceId),
      config_parse_status: hm.config.parseStatus,
    };
  });

  app.get('/api/children/:id', async (req) => {
    const { id } = check(idParams, req.params, 'params');
    const state = hm.supervisor.states().find((s) => s.instance_id === id);
    if (!state) throw Errors.NOT_FOUND(`child "${id}"`);
    return state;
  });
}
