/**
 * REST face of an OpRegistry, for `cox` and scripts (OCS clients use the /call bridge instead).
 *
 *   GET  /api/ops                 describe(): {tasks, processes}, as in get_api
 *   GET  /api/ops/:op             status
 *   POST /api/ops/:op/start       body: the op's params object (optional)
 *   POST /api/ops/:op/stop|abort  body: optional params object (accepted, unused)
 *   POST /api/ops/:op/wait        body `{timeout}` or query `?timeout=`; a number of seconds, or
 *                                 null / absent = until done (as OCS); `<= 0` answers at once
 *
 * Every reply is `{code, message, session}` with the OCS code and message; errors add
 * `error: <COX_* code>` so callers branch on that, never on message text. HTTP status:
 *   200  OK, and TIMEOUT (a wait that ran out is an answer, not a failure)
 *   400  bad params, malformed JSON, a body or query of the wrong shape (the reason names the field)
 *   404  unknown op
 *   409  the op's state refuses the action: already running, not running, stop on a task,
 *        abort on a process or a non-abortable task, registry shut down
 *   415  a body with a Content-Type other than JSON
 * An empty body with `Content-Type: application/json` means "no params" rather than an error.
 * Pending waits are released (answered TIMEOUT) at server close and when the client goes away.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { Errors, errorFacts } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import { ResponseCode } from '../codes.js';
import type { OpRegistry, Outcome } from '../registry.js';

export interface OpsRoutesOptions {
  registry: OpRegistry;
}

const Path = z.object({ op: z.string().min(1) });
const ParamsBody = z.record(z.string(), z.unknown(), { error: 'expected an object of op params' }).nullish();
const Timeout = z.number().nullable().optional();
const WaitBody = z.object({ timeout: Timeout }).strict().nullish();
const WaitQuery = z
  .object({
    timeout: z
      .string()
      .transform((s, ctx) => {
        if (s === 'null') return null;
        const n = Number(s);
        if (s.trim() !== '' && Number.isFinite(n)) return n;
        ctx.addIssue({ code: 'custom', message: 'expected a number of seconds or "null"' });
        return z.NEVER;
      })
      .optional(),
  })
  .strict();

export async function opsRoutes(app: FastifyInstance, { registry }: OpsRoutesOptions): Promise<void> {
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : parseJson(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, code, message } = errorFacts(err);
    if (status >= 500) req.log.error({ err }, 'ops route failed');
    return reply.code(status).send({ code: ResponseCode.ERROR, message, session: {}, error: code });
  });

  app.get('/api/ops', async () => registry.describe());

  app.get('/api/ops/:op', async (req, reply) => {
    const { op } = check(Path, req.params, 'path');
    return send(reply, await registry.perform('status', op));
  });

  for (const action of ['start', 'stop', 'abort'] as const) {
    app.post(`/api/ops/:op/${action}`, async (req, reply) => {
      const { op } = check(Path, req.params, 'path');
      const params = check(ParamsBody, req.body, 'body') ?? undefined;
      return send(reply, await registry.perform(action, op, { params }));
    });
  }

  app.post('/api/ops/:op/wait', async (req, reply) => {
    const { op } = check(Path, req.params, 'path');
    const body = check(WaitBody, req.body, 'body');
    const query = check(WaitQuery, req.query, 'query');
    const timeout = body?.timeout !== undefined ? body.timeout : (query.timeout ?? null);
    const signal = AbortSignal.any([closing.signal, clientGone(reply)]);
    return send(reply, await registry.perform('wait', op, { timeout, signal }));
  });
}

function send(reply: FastifyReply, { reply: [code, message, session], error }: Outcome) {
  const status = error?.statusCode ?? 200;
  return reply.code(status).send(error ? { code, message, session, error: error.code } : { code, message, session });
}

/**
 * JSON.parse that refuses prototype-poisoning keys (as Fastify's own parser does), because
 * bodies here are handed to op code that may merge them into objects.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text, (key, value: unknown) => {
      const isObject = typeof value === 'object' && value !== null;
      const poisoned = key === '__proto__' || (key === 'constructor' && isObject && 'prototype' in value);
      if (poisoned) throw new SyntaxError(`forbidden key "${key}"`);
      return value;
    }) as unknown;
  } catch (err) {
    throw Errors.BAD_REQUEST(`body: not valid JSON (${(err as Error).message})`);
  }
}

/** Aborts when the client's connection closes before we answer. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => gone.abort());
  return gone.signal;
}
