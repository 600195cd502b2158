/**
 * The agent's side of the controller protocol, for one `[controllers.X]`: long poll, ack,
 * results, logs, stats, events and jumpscript texts. Polls ask for several offers (`max`), and
 * acks and results go in batches, answered item by item (controller/http/agent-routes.ts).
 *
 * Two transports carry the same calls. `stream` (the default): one upgraded connection
 * (src/stream/) carries the poll, the acks and the results at once, without a request each.
 * `http`: plain node:http/https with one keep-alive agent per controller, because that is where a
 * client certificate, key and CA plug in (Node 20's fetch takes them only through an undici
 * dispatcher we do not ship). A controller that refuses the stream handshake as unknown (404, 400)
 * is spoken to over HTTP from then on.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { batchOutcomes, type Ack, type AgentEvent, type BatchOutcome, type LogMessage, type Result, type StatsBatch } from '../../protocol/job.js';
import type { ProcessExit } from '../../protocol/process.js';
import { Errors, isCoxError } from '../../shared/errors.js';
import { StreamChannel } from '../../stream/channel.js';
import type { CallOptions } from '../../stream/connection.js';
import { AnsweredError } from '../../stream/frames.js';
import { openStream } from '../../stream/open.js';
import type { ControllerConfig } from '../config/types.js';

const MAX_BODY = 16 * 1024 * 1024;
const acknowledged = z.object({ acknowledged: z.array(z.string()) });

interface Reply {
  status: number;
  body: string;
}

interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** Socket idle time before the request fails; a long poll needs more than the poll timeout. */
  timeoutMs?: number;
}

export class ControllerClient {
  readonly key: string;
  private readonly agent: http.Agent;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly nodePath: string;
  private stream: StreamChannel | null = null;
  /** The controller refused the stream handshake as something it does not know. */
  private streamRefused = false;

  /**
   * @param pollWaitMs how long the controller may hold a poll (sent as `timeout`); the socket
   *   gives up 30 s after that, in case the controller's answer got lost.
   */
  constructor(
    cfg: ControllerConfig,
    node: { gid: number; nid: number },
    private readonly pollWaitMs = 60_000,
  ) {
    this.key = cfg.key;
    this.base = cfg.url;
    const { cert, key, ca } = cfg.tls;
    const tls = {
      ...(cert ? { cert: readFileSync(cert) } : {}),
      ...(key ? { key: readFileSync(key) } : {}),
      ...(ca ? { ca: readFileSync(ca) } : {}),
    };
    this.agent = cfg.url.startsWith('https:') ? new https.Agent({ keepAlive: true, ...tls }) : new http.Agent({ keepAlive: true });
    this.headers = { accept: 'application/json', ...(cfg.token ? { authorization: `Bearer ${cfg.token}` } : {}) };
    this.nodePath = `/${node.gid}/${node.nid}`;
    if (cfg.transport === 'stream') {
      const open = async () => {
        try {
          return await openStream({ url: this.base, path: `${this.nodePath}/stream`, headers: this.headers, tls });
        } catch (err) {
          if (err instanceof AnsweredError && (err.status === 404 || err.status === 400)) this.streamRefused = true;
          throw err;
        }
      };
      this.stream = new StreamChannel({ label: this.key, open });
    }
  }

  /** `stream` or `http`: what the next call goes over. */
  get transport(): 'stream' | 'http' {
    return this.stream ? 'stream' : 'http';
  }

  /**
   * One long poll for up to `max` offers: as sent (validated by the caller), none at the poll
   * timeout. A controller that answers one object (it does not know `max`) gives one offer.
   */
  async poll(roles: readonly string[], max: number, signal: AbortSignal): Promise<unknown[]> {
    const timeoutMs = this.pollWaitMs + 30_000;
    const streamed = await this.viaStream('poll', { role: roles, max, timeout: this.pollWaitMs / 1000 }, { signal, timeoutMs });
    if (streamed !== NOT_STREAMED) {
      if (!Array.isArray(streamed)) throw Errors.BAD_RESPONSE(`${this.key}: poll: expected an array of offers`);
      return streamed;
    }
    const query = [...roles.map((r) => `role=${encodeURIComponent(r)}`), `timeout=${this.pollWaitMs / 1000}`, `max=${max}`].join('&');
    const reply = await this.request('GET', `${this.nodePath}/cmd?${query}`, { signal, timeoutMs });
    if (reply.status === 204 || reply.body === '') return [];
    const answer = parseJson(reply.body, `${this.key}: poll`);
    return Array.isArray(answer) ? answer : [answer];
  }

  /** Confirms leases in one post; per item, false when the controller says it is stale: do not run it. */
  async ack(acks: readonly Ack[]): Promise<boolean[]> {
    const outcomes = await this.batch('ack', acks);
    return outcomes.map((o) => o.ok);
  }

  /** Posts results in one request; the controller's word on each, in order. */
  async results(results: readonly Result[]): Promise<BatchOutcome[]> {
    return this.batch('result', results);
  }

  async logs(batch: LogMessage[]): Promise<void> {
    if ((await this.viaStream('log', batch)) !== NOT_STREAMED) return;
    await this.request('POST', `${this.nodePath}/log`, { body: batch });
  }

  async stats(batch: StatsBatch): Promise<void> {
    if ((await this.viaStream('stats', batch)) !== NOT_STREAMED) return;
    await this.request('POST', `${this.nodePath}/stats`, { body: batch });
  }

  /** Reports finished named processes; answers the ids the controller acknowledged. */
  async processExits(exits: ProcessExit[], signal: AbortSignal): Promise<string[]> {
    let answer = await this.viaStream('processes.finished', exits, { signal });
    if (answer === NOT_STREAMED) answer = parseJson((await this.request('POST', `${this.nodePath}/processes/finished`, { body: exits, signal })).body, `${this.key}: process ends`);
    const parsed = acknowledged.safeParse(answer);
    if (!parsed.success) throw Errors.BAD_RESPONSE(`${this.key}: process ends: expected {acknowledged: [id, ...]}`);
    return parsed.data.acknowledged;
  }

  async event(event: AgentEvent): Promise<void> {
    if ((await this.viaStream('event', event)) !== NOT_STREAMED) return;
    await this.request('POST', `${this.nodePath}/event`, { body: event });
  }

  async script(hash: string): Promise<string> {
    const streamed = await this.viaStream('script', { hash });
    if (streamed === NOT_STREAMED) return (await this.request('GET', `/script?hash=${encodeURIComponent(hash)}`, {})).body;
    if (typeof streamed !== 'string') throw Errors.BAD_RESPONSE(`${this.key}: script: expected its text`);
    return streamed;
  }

  private async batch(route: 'ack' | 'result', items: readonly { id: string }[]): Promise<BatchOutcome[]> {
    let answer = await this.viaStream(route, items);
    if (answer === NOT_STREAMED) answer = parseJson((await this.request('POST', `${this.nodePath}/${route}`, { body: items })).body, `${this.key}: ${route}`);
    const parsed = batchOutcomes.safeParse(answer);
    // An answer that does not match the items one to one cannot say which of them were taken.
    if (!parsed.success || parsed.data.length !== items.length || parsed.data.some((o, i) => o.id !== items[i]!.id)) {
      throw Errors.BAD_RESPONSE(`${this.key}: ${route}: expected one outcome per item, in order`);
    }
    return parsed.data;
  }

  close(): void {
    this.stream?.close();
    this.agent.destroy();
  }

  /** The call's answer over the stream, or NOT_STREAMED when this controller is spoken to over HTTP. */
  private async viaStream(op: string, body: unknown, opts: CallOptions = {}): Promise<unknown> {
    if (!this.stream) return NOT_STREAMED;
    try {
      return await this.stream.call(op, body, { timeoutMs: 30_000, ...opts });
    } catch (err) {
      if (!this.streamRefused) throw err;
      this.stream.close();
      this.stream = null;
      return NOT_STREAMED;
    }
  }

  /** Throws UNREACHABLE (no answer) or HTTP_ERROR (a status outside 2xx and `accept`). */
  private request(method: string, path: string, opts: RequestOptions, accept: number[] = []): Promise<Reply> {
    const url = new URL(this.base + path);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<Reply>((resolve, reject) => {
      const req = transport.request(
        url,
        {
          method,
          agent: this.agent,
          headers: { ...this.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          timeout: opts.timeoutMs ?? 30_000,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY) req.destroy(new Error(`reply larger than ${MAX_BODY} bytes`));
            else chunks.push(chunk);
          });
          res.on('error', (err) => reject(Errors.UNREACHABLE(`${this.key}: ${err.message}`)));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            if ((status >= 200 && status < 300) || accept.includes(status)) resolve({ status, body: text });
            else reject(Object.assign(Errors.HTTP_ERROR(`${this.key}: ${method} ${url.pathname} answered ${status}: ${text.slice(0, 200)}`), { status }));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 30_000} ms`)));
      req.on('error', (err) => reject(Errors.UNREACHABLE(`${this.key}: ${err.message}`)));
      req.end(body);
    });
  }
}

const NOT_STREAMED = Symbol('not streamed');

/** The status a controller answered with (over HTTP or a stream), if that is what `err` is about. */
export function answeredStatus(err: unknown): number | null {
  if (err instanceof AnsweredError) return err.status;
  const status = (err as { status?: unknown } | null)?.status;
  return isCoxError(err, Errors.HTTP_ERROR) && typeof status === 'number' ? status : null;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw Errors.BAD_RESPONSE(`${what}: not JSON: ${text.slice(0, 200)}`);
  }
}
