/**
 * The controller's HTTP(S) face, built without listening (Fastify's testing pattern): the agent
 * protocol at the root, the client API under /api, and both as streams on the same port
 * (stream/accept.ts). Pending long waits are released in preClose, so closing never waits out a
 * poll.
 */
import type { Server } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Errors, errorFacts } from '../../shared/errors.js';
import type { Controller } from '../controller.js';
import { StreamAcceptor } from '../stream/accept.js';
import { agentRoutes } from './agent-routes.js';
import { authHook } from './auth.js';
import { clientRoutes } from './client-routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { processRoutes } from './process-routes.js';

export interface TlsOptions {
  cert: Buffer;
  key: Buffer;
  /** CA that signs agents' certificates; with it, agents may authenticate by certificate. */
  ca?: Buffer;
  /** Refuse, at the handshake, every connection without a certificate the CA signed. */
  requireClientCert?: boolean;
}

export interface BuildOptions {
  controller: Controller;
  logger: Logger;
  scriptDir: string;
  token?: string;
  tls?: TlsOptions;
}

const JSON_ERRORS = new Set(['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

/** Log batches can be large; anything bigger is refused with 413 before it is parsed. */
const BODY_LIMIT = 16 * 1024 * 1024;
const MAX_PARAM_LENGTH = 2048;

export async function buildControllerApp(opts: BuildOptions): Promise<FastifyInstance> {
  // Request lines are logged at info; one per poll would drown everything else.
  const httpLogger = opts.logger.child({ component: 'http' }, { level: 'warn' });
  const app = Fastify({
    loggerInstance: httpLogger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // Job ids are up to 200 characters, more once percent-encoded; Fastify's default is 100.
    maxParamLength: MAX_PARAM_LENGTH,
    ...(opts.tls ? { https: httpsOptions(opts.tls) } : {}),
  }) as unknown as FastifyInstance;

  app.addHook('onRequest', authHook(opts.token));
  const streams = new StreamAcceptor(app.server as Server, { controller: opts.controller, scriptDir: opts.scriptDir, logger: opts.logger, ...(opts.token ? { token: opts.token } : {}) });
  app.addHook('preClose', async () => {
    opts.controller.close();
    streams.close();
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, code, message } = errorFacts(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    // Fastify's own JSON parser (it refuses __proto__ keys) reports with codes of its own.
    if (JSON_ERRORS.has(code)) return reply.code(400).send({ code: Errors.BAD_REQUEST.code, message: `body: not valid JSON (${message})` });
    return reply.code(status).send({ code, message });
  });
  app.setNotFoundHandler((req, reply) => {
    const err = Errors.NOT_FOUND(`route ${req.method} ${req.url.split('?', 1)[0]}`);
    return reply.code(err.statusCode).send({ code: err.code, message: err.message });
  });

  await app.register(clientRoutes, { controller: opts.controller, scriptDir: opts.scriptDir });
  await app.register(agentRoutes, { controller: opts.controller });
  await app.register(processRoutes, { controller: opts.controller });
  await app.register(metricsRoutes, { controller: opts.controller });
  return app;
}

function httpsOptions(tls: TlsOptions) {
  return {
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: tls.requireClientCert ?? false } : {}),
  };
}
