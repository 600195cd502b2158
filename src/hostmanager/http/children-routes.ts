/**
 * Read-only views of the children for operators and `cox`:
 * - `GET /api/children`                 every child's state, the manager's status, parse status
 * - `GET /api/children/:id`             one child (404 if unknown)
 * - `GET /api/children/:id/logs?lines=` the last lines of its log file (default 100, max 10,000)
 * Changing targets goes through the `update` op, as in OCS.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Errors } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import type { HostManager } from '../host-manager.js';
import { readTail } from '../process/log-tail.js';
import { logFileFor } from '../process/native-process.js';

const idParams = z.object({ id: z.string().min(1) });
const logsQuery = z.object({ lines: z.coerce.number().int().min(1).max(10_000).default(100) });

export async function childrenRoutes(app: FastifyInstance, opts: { hm: HostManager }): Promise<void> {
  const { hm } = opts;

  app.get('/api/children', async () => {
    const manager = hm.registry.session('manager');
    return {
      host: hm.config.current?.host ?? null,
      instance_id: hm.instanceId,
      manager: { running: hm.registry.isRunning('manager'), status: manager?.status ?? null, success: manager?.success ?? null },
      children: hm.supervisor.states(),
      config_parse_status: hm.config.parseStatus,
    };
  });

  app.get('/api/children/:id', async (req) => {
    const { id } = check(idParams, req.params, 'params');
    const state = hm.supervisor.states().find((s) => s.instance_id === id);
    if (!state) throw Errors.NOT_FOUND(`child "${id}"`);
    return state;
  });

  app.get('/api/children/:id/logs', async (req) => {
    const { id } = check(idParams, req.params, 'params');
    const { lines } = check(logsQuery, req.query, 'query');
    const logDir = hm.config.current?.logDir;
    if (!hm.supervisor.has(id) || !logDir) throw Errors.NOT_FOUND(`child "${id}"`);
    return { instance_id: id, file: logFileFor(logDir, id), lines: await readTail(logFileFor(logDir, id), lines) };
  });
}
