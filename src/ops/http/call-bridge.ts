/**
 * The crossbar HTTP "caller" contract (REFERENCE 4), so unmodified OCS clients (`ocsbow`,
 * `OCSClient` over HTTP) can drive this agent: POST `{procedure, args, kwargs}` to any path
 * outside /api, get `{args: [result]}` or `{error, args, kwargs}` back.
 *
 * The OCS client breaks on anything but HTTP 200 with a JSON body, so every failure here, even a
 * malformed request or an internal fault, is a 200 carrying a WAMP error:
 *   wamp.error.no_such_procedure  a procedure other than `R.H` and `R.H.ops` (text as crossbar's)
 *   wamp.error.invalid_argument   body not JSON, not an object, or args/kwargs of the wrong shape
 *   wamp.error.runtime_error      anything else (logged)
 * The body is JSON whatever the Content-Type says: OCS's client sends none, and curl users send
 * form types. The parser and error handler are scoped to this plugin, so /api keeps its own.
 */
import os from 'node:os';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { ResponseCode } from '../codes.js';
import type { OpAction, OpRegistry, Reply } from '../registry.js';
import { errorFacts } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import { clientGone, parseJson } from './ops-routes.js';

export interface CallBridgeOptions {
  /**
   * `<hub.address_root>.<instance-id>`, e.g. `observatory.hm-lab1`, asked for each call: an SCF
   * edit may change either, and clients reading the edited SCF call the new address.
   */
  address: () => string;
  agentClass: string;
  registry: OpRegistry;
  hostname?: string;
  pid?: number;
}

type WampResult = { args: unknown[] } | { error: string; args: unknown[]; kwargs: Record<string, unknown> };

const Call = z.object({
  procedure: z.string(),
  args: z.array(z.unknown()).nullish(),
  kwargs: z.record(z.string(), z.unknown()).nullish(),
});
// OCS's handler is `(action, op_name, params=None, timeout=None)` plus `password`, which we ignore.
const OpsArgs = z.tuple([z.string(), z.string()], z.unknown());
const OpsKwargs = z.looseObject({ timeout: z.number().nullable().optional() });
const ACTIONS: readonly string[] = ['start', 'stop', 'abort', 'wait', 'status'] satisfies OpAction[];

export async function callBridge(app: FastifyInstance, opts: CallBridgeOptions): Promise<void> {
  const { registry, agentClass } = opts;
  const instance_hostname = opts.hostname ?? os.hostname();
  const instance_pid = opts.pid ?? process.pid;
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());

  // A header we ignore must not be able to fail the request (Fastify 415s a malformed one).
  app.addHook('onRequest', async (req) => {
    delete req.raw.headers['content-type'];
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, message } = errorFacts(err);
    if (status >= 500) req.log.error({ err }, 'call bridge failed');
    return reply.code(200).send(wampError(status < 500 ? 'invalid_argument' : 'runtime_error', message));
  });

  const management = (q: unknown): unknown => {
    const { tasks, processes } = registry.describe();
    switch (q) {
      case 'get_api':
        return { agent_class: agentClass, instance_hostname, instance_pid, feeds: [], processes, tasks };
      case 'get_tasks':
        return tasks;
      case 'get_processes':
        return processes;
      case 'get_feeds':
        return [];
      case 'get_agent_class':
        return agentClass;
      default:
        return null; // as OCS, whose handler falls through to None
    }
  };

  const ops = async (args: unknown[], kwargs: unknown, reply: FastifyReply): Promise<Reply> => {
    const [action, opName, params] = check(OpsArgs, args, 'args');
    const { timeout } = check(OpsKwargs, kwargs, 'kwargs');
    if (!ACTIONS.includes(action)) return [ResponseCode.ERROR, `No implementation for "${action}"`, {}];
    const signal = AbortSignal.any([closing.signal, clientGone(reply)]);
    const outcome = await registry.perform(action as OpAction, opName, { params, timeout, signal });
    return outcome.reply;
  };

  app.post('/*', async (req, reply): Promise<WampResult | FastifyReply> => {
    const path = req.url.split('?')[0] ?? '';
    if (path === '/api' || path.startsWith('/api/')) {
      reply.callNotFound();
      return reply;
    }
    const call = check(Call, req.body, 'body');
    const args = call.args ?? [];
    const address = opts.address();
    if (call.procedure === address) {
      if (args.length === 0) return wampError('invalid_argument', 'args: expected [query], e.g. ["get_api"]');
      return { args: [management(args[0])] };
    }
    if (call.procedure === `${address}.ops`) return { args: [await ops(args, call.kwargs ?? {}, reply)] };
    // Crossbar's own wording, angle brackets included: ocsbow matches on the error name.
    return wampError('no_such_procedure', `no callee registered for procedure <${call.procedure}>`);
  });
}

function wampError(kind: string, message: string): WampResult {
  return { error: `wamp.error.${kind}`, args: [message], kwargs: {} };
}
