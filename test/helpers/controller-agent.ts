/**
 * A tiny stand-in for a node agent, speaking the controller's agent protocol over real HTTP(S):
 * poll, ack, result, optionally with a client certificate. `run()` loops like an agent: take an
 * offer, acknowledge it, answer with `handle`'s result. Everything it saw is recorded.
 */
import http from 'node:http';
import https from 'node:https';
import type { Offer, Result } from '../../src/protocol/job.js';

export interface FakeAgentOptions {
  url: string;
  gid: number;
  nid: number;
  roles?: string[];
  token?: string;
  tls?: { cert: Buffer; key: Buffer; ca: Buffer };
}

export interface Reply<T = any> {
  status: number;
  json: T;
}

/** What the agent posts back for an offer: SUCCESS with the job's data echoed, unless changed. */
export type Handler = (offer: Offer) => Partial<Result> | null | Promise<Partial<Result> | null>;

export class FakeAgent {
  readonly offers: Offer[] = [];
  readonly acked: string[] = [];
  /** Ids whose result the controller accepted. */
  readonly answered: string[] = [];
  #transport: http.Agent;
  #running: Promise<void> | null = null;
  #stop = new AbortController();

  constructor(readonly opts: FakeAgentOptions) {
    this.#transport = opts.tls ? new https.Agent({ keepAlive: true, ...opts.tls }) : new http.Agent({ keepAlive: true });
  }

  get name(): string {
    return `${this.opts.gid}_${this.opts.nid}`;
  }

  /** One long poll; null on 204. */
  async poll(timeoutS?: number, signal?: AbortSignal): Promise<Offer | null> {
    const q = new URLSearchParams((this.opts.roles ?? []).map((r) => ['role', r]));
    if (timeoutS !== undefined) q.set('timeout', String(timeoutS));
    const res = await this.request('GET', `/${this.opts.gid}/${this.opts.nid}/cmd?${q}`, undefined, signal);
    if (res.status === 204) return null;
    if (res.status !== 200) throw new Error(`poll answered ${res.status}: ${JSON.stringify(res.json)}`);
    this.offers.push(res.json as Offer);
    return res.json as Offer;
  }

  async ack(offer: Offer): Promise<Reply> {
    const res = await this.request('POST', `/${this.opts.gid}/${this.opts.nid}/ack`, { id: offer.id, lease: offer.lease });
    if (res.status === 200) this.acked.push(offer.id);
    return res;
  }

  result(offer: Pick<Offer, 'id' | 'cmd'>, extra: Partial<Result> = {}): Promise<Reply> {
    const body: Result = { id: offer.id, gid: this.opts.gid, nid: this.opts.nid, cmd: offer.cmd, data: '', level: 20, state: 'SUCCESS', starttime: Date.now(), time: 1, streams: ['', ''], critical: '', tags: '', ...extra };
    return this.request('POST', `/${this.opts.gid}/${this.opts.nid}/result`, body);
  }

  /** Polls, acknowledges and answers until `stop()`; `handle` returning null leaves a job running. */
  run(handle: Handler = (o) => ({ data: o.data })): this {
    this.#running = (async () => {
      while (!this.#stop.signal.aborted) {
        const offer = await this.poll(undefined, this.#stop.signal).catch((err: Error) => {
          if (this.#stop.signal.aborted) return null;
          throw err;
        });
        if (!offer) continue;
        if ((await this.ack(offer)).status !== 200) continue;
        const extra = await handle(offer);
        if (extra && (await this.result(offer, extra)).status === 200) this.answered.push(offer.id);
      }
    })();
    return this;
  }

  /** Ends the loop, dropping a pending poll the way a killed agent's socket drops. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    this.#transport.destroy();
  }

  request<T = any>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<Reply<T>> {
    const url = new URL(path, this.opts.url);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
    };
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method, headers, agent: this.#transport, ...(signal ? { signal } : {}) }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: text && res.headers['content-type']?.includes('json') ? JSON.parse(text) : text });
          } catch (err) {
            reject(err as Error);
          }
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}
