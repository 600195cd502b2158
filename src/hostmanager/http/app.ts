/**
 * The host manager's HTTP face, built without listening (Fastify's testing pattern): REST ops and
 * children views under /api, and the OCS /call bridge on every other POST path.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { callBridge } from '../../ops/http/call-bridge.js';
import { opsRoutes } from '../../ops/http/ops-routes.js';
import { Errors, errorFacts } from '../../shared/errors.js';
import type { HostManager } from '../host-manager.js';
import type { LogFiles } from '../logs/log-files.js';
import { childrenRoutes } from './children-routes.js';
import { logsRoutes } from './logs-routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { statusPageRoutes } from './status-page-routes.js';

export interface BuildOptions {
  hm: HostManager;
  logger: Logger;
  /**
   * When set, every request must carry it as `Authorization: Bearer <token>`, or as `?token=`
   * in the URL, which is how an unmodified OCS client (whose `hub.wamp_http` URL may carry a
   * query) can present it.
   */
  token?: string;
  /** The daemon's log files, whose rotations followers must see. */
  logs?: LogFiles;
}

export async function buildHostManagerApp(opts: BuildOptions): Promise<FastifyInstance> {
  // Request lines are logged at info; one per `cox status` poll would drown the state changes.
  const httpLogger = opts.logger.child({ component: 'http' }, { level: 'warn' });
  // Close every connection on close, not only idle ones: Node does not count a connection that
  // has not sent a request yet as idle, and fetch opens one as soon as a request is aborted.
  const app = Fastify({
    loggerInstance: httpLogger as FastifyBaseLogger,
    forceCloseConnections: true,
    // A URL Fastify cannot decode never reaches the error handler: answered here in the same shape.
    frameworkErrors: (err, _req, reply) => {
      void (reply as unknown as FastifyReply).code(400).send({ code: Errors.BAD_REQUEST.code, message: err.message });
    },
  });
  if (opts.token) app.addHook('onRequest', requireToken(opts.token));

  app.setErrorHandler((err, req, reply) => {
    const { status, code, message } = errorFacts(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ code, message });
  });
  app.setNotFoundHandler((req, reply) => {
    const err = Errors.NOT_FOUND(`route ${req.method} ${req.url.split('?', 1)[0]}`);
    return reply.code(err.statusCode).send({ code: err.code, message: err.message });
  });

  app.get('/api/health', async () => ({ ok: true, instance_id: opts.hm.instanceId }));
  await app.register(childrenRoutes, { hm: opts.hm });
  await app.register(logsRoutes, { hm: opts.hm, ...(opts.logs ? { logs: opts.logs } : {}) });
  await app.register(opsRoutes, { registry: opts.hm.registry });
  await app.register(statusPageRoutes);
  await app.register(metricsRoutes, { hm: opts.hm });
  await app.register(callBridge, {
    address: () => `${opts.hm.addressRoot}.${opts.hm.instanceId}`,
    agentClass: 'HostManager',
    registry: opts.hm.registry,
  });
  return app;
}

function requireToken(token: string) {
  const expected = Buffer.from(token);
  const matches = (given: string | undefined) => {
    if (given === undefined) return false;
    const buf = Buffer.from(given);
    return buf.length === expected.length && timingSafeEqual(buf, expected);
  };
  return async (req: { headers: Record<string, string | string[] | undefined>; query: unknown }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
    const header = req.headers.authorization;
    const bearer = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    const query = (req.query as { token?: string } | undefined)?.token;
    if (matches(bearer) || matches(query)) return;
    const err = Errors.UNAUTHORIZED('Authorization: Bearer <token> or ?token=');
    return reply.code(err.statusCode).send({ code: err.code, message: err.message });
  };
}
