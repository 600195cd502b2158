/**
 * A small stand-in for the controller, speaking the agent protocol for real over HTTP(S) on
 * 127.0.0.1: long poll with leases (an array of up to `max` offers when asked), ack (409 for a
 * wrong or refused lease; per item for a batch), result (one or a batch), log, stats, event and
 * script. It validates every body with the shared wire schemas and records what it got,
 * so tests assert on what the agent sent.
 */
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { agentEvent, job as jobSchema, logBatch, result as resultSchema, resultBatch, statsBatch, type AgentEvent, type Job, type LogMessage, type Result, type StatsBatch } from '../../src/protocol/job.js';
import { processExits, type ProcessExit } from '../../src/protocol/process.js';
import { waitUntil } from './wait.js';

export interface FakeControllerOptions {
  /** Answer an idle poll with 204 after this long (default 500 ms). */
  pollTimeoutMs?: number;
  /** An offer whose lease nobody tried to ack for this long is offered again, as the controller does (default 1 s). */
  leaseMs?: number;
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Serve HTTPS and require a client certificate signed by `ca`. */
  tls?: { key: string; cert: string; ca: string };
}

export type JobInput = Partial<Omit<Job, 'args'>> & { id: string; cmd: string; args?: Record<string, unknown> };

type Offered = Job & { lease: string };
/** A pending poll. */
interface Waiter {
  /** Takes an offer; false if its poll is gone (the agent stopped), so the offer goes to the next. */
  take: (offer: Offered) => boolean;
  /** It asked for `max=0`: its agent has no free slot, so it takes urgent offers only. */
  urgentOnly: boolean;
}

export class FakeController {
  readonly results = new Map<string, Result[]>();
  readonly logs: LogMessage[] = [];
  /** Size of each log batch received. */
  readonly logBatches: number[] = [];
  readonly stats: StatsBatch[] = [];
  readonly events: AgentEvent[] = [];
  /** Named processes' ends the agent reported (each acknowledged). */
  readonly exits: ProcessExit[] = [];
  readonly acks: { id: string; ok: boolean }[] = [];
  /** Each poll: its path, roles, `max` (offers asked for) and how many offers it got. */
  readonly polls: { path: string; roles: string[]; max?: number; offered: number }[] = [];
  /** Subject CNs of the client certificates that came with requests. */
  readonly peers: string[] = [];
  /** Bodies refused with 400, with the reason: a test expects none. */
  readonly refused: string[] = [];
  readonly scripts = new Map<string, string>();
  /** Ids whose ack is answered 409, as if the lease had expired. */
  readonly expireLeases = new Set<string>();
  private readonly queue: Offered[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly leases = new Map<string, string>();
  private readonly tried = new Set<string>();
  private readonly urgent = new Set<string>();
  url = '';

  constructor(
    readonly app: FastifyInstance,
    private readonly leaseMs: number,
  ) {}

  /**
   * Queues a job for the next poll; the same id may be offered again (a re-offer). `urgent`, like
   * the controller's own kills, also reaches a poll whose agent has no free slot.
   */
  offer(input: JobInput, opts: { urgent?: boolean } = {}): void {
    if (opts.urgent) this.urgent.add(input.id);
    this.enqueue({ ...jobSchema.parse(input), lease: randomUUID() }, 'tail');
  }

  private enqueue(offered: Offered, where: 'head' | 'tail'): void {
    this.leases.set(offered.id, offered.lease);
    for (let i = this.wanting(offered); i !== -1; i = this.wanting(offered)) if (this.hand(this.waiters.splice(i, 1)[0]!, offered)) return;
    if (where === 'head') this.queue.unshift(offered);
    else this.queue.push(offered);
  }

  private wanting(offered: Offered): number {
    return this.waiters.findIndex((w) => this.wants(w, offered));
  }

  private wants(waiter: Waiter, offered: Offered): boolean {
    return !waiter.urgentOnly || this.urgent.has(offered.id);
  }

  /**
   * Gives `offered` to a poll. A poll whose agent just stopped may still look open; its offer is
   * lost in transit, and like the controller we offer it again when its lease goes unanswered.
   */
  private hand(waiter: Waiter, offered: Offered): boolean {
    if (!waiter.take(offered)) return false;
    setTimeout(() => {
      if (!this.tried.has(offered.lease) && this.leases.get(offered.id) === offered.lease) this.enqueue({ ...offered, lease: randomUUID() }, 'head');
    }, this.leaseMs).unref();
    return true;
  }

  /** The first (or `n`th) result for `id` matching `accept`, waiting for it. */
  async result(id: string, accept: (r: Result) => boolean = () => true, timeoutMs = 10_000): Promise<Result> {
    return waitUntil(() => (this.results.get(id) ?? []).find(accept), timeoutMs, `a result for ${id}`);
  }

  /** A final (non-RUNNING) result for `id`. */
  final(id: string, timeoutMs = 10_000): Promise<Result> {
    return this.result(id, (r) => r.state !== 'RUNNING', timeoutMs);
  }

  /** Hands the next offer it wants to `waiter`, now or when one is queued, unless released first. */
  wait(waiter: Waiter): void {
    const i = this.queue.findIndex((o) => this.wants(waiter, o));
    if (i === -1) return void this.waiters.push(waiter);
    const next = this.queue.splice(i, 1)[0]!;
    if (!this.hand(waiter, next)) this.queue.splice(i, 0, next);
  }

  /** Up to `n` more queued offers for a poll that already got one. */
  more(n: number): Offered[] {
    const extra = this.queue.splice(0, Math.max(0, n));
    for (const o of extra) this.hand({ take: () => true, urgentOnly: false }, o);
    return extra;
  }

  release(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i !== -1) this.waiters.splice(i, 1);
  }

  ack(id: string, lease: string): boolean {
    this.tried.add(lease);
    const ok = !this.expireLeases.has(id) && this.leases.get(id) === lease;
    this.acks.push({ id, ok });
    return ok;
  }

  async close(): Promise<void> {
    this.waiters.splice(0);
    await this.app.close();
  }
}

export async function startFakeController(opts: FakeControllerOptions = {}): Promise<FakeController> {
  // The routes do not care which server carries them; one instance type keeps the class simple.
  const app = (opts.tls ? Fastify({ https: { ...opts.tls, requestCert: true, rejectUnauthorized: true } }) : Fastify()) as unknown as FastifyInstance;
  const fake = new FakeController(app, opts.leaseMs ?? 1000);
  const pollTimeoutMs = opts.pollTimeoutMs ?? 500;
  const validated = <T>(schema: { safeParse(v: unknown): { success: boolean; data?: T; error?: { message: string } } }, body: unknown, reply: { code(n: number): unknown }): T | null => {
    const r = schema.safeParse(body);
    if (r.success) return r.data!;
    fake.refused.push(r.error!.message);
    reply.code(400);
    return null;
  };

  app.addHook('onRequest', async (req) => {
    const socket = req.raw.socket as TLSSocket;
    if (typeof socket.getPeerCertificate === 'function') fake.peers.push(String(socket.getPeerCertificate().subject?.CN ?? ''));
  });
  app.get('/:gid/:nid/cmd', async (req, reply) => {
    const q = req.query as { role?: string | string[]; max?: string };
    const poll = { path: req.url.split('?')[0]!, roles: q.role === undefined ? [] : ([] as string[]).concat(q.role), ...(q.max === undefined ? {} : { max: Number(q.max) }), offered: 0 };
    fake.polls.push(poll);
    const offered = await new Promise<Offered | null>((resolve) => {
      const give: Waiter = {
        take: (o) => {
          if (reply.raw.destroyed || req.raw.socket.destroyed) return false;
          clearTimeout(timer);
          resolve(o);
          return true;
        },
        urgentOnly: poll.max === 0,
      };
      const giveUp = () => {
        clearTimeout(timer);
        fake.release(give);
        resolve(null);
      };
      const timer = setTimeout(giveUp, pollTimeoutMs);
      // A poll the agent abandoned (it stopped) must not swallow the next offer.
      reply.raw.once('close', () => !reply.raw.writableEnded && giveUp());
      fake.wait(give);
    });
    if (offered === null) return reply.code(204).send();
    const offers = [offered, ...fake.more((poll.max ?? 1) - 1)];
    poll.offered = offers.length;
    return poll.max === undefined ? offered : offers;
  });
  app.post('/:gid/:nid/ack', async (req, reply) => {
    if (Array.isArray(req.body)) {
      return (req.body as { id: string; lease: string }[]).map(({ id, lease }) => (fake.ack(id, lease) ? { id, ok: true } : { id, ok: false, code: 'COX_LEASE_INVALID', message: 'lease expired' }));
    }
    const { id, lease } = req.body as { id: string; lease: string };
    return fake.ack(id, lease) ? { ok: true } : reply.code(409).send({ code: 'COX_LEASE_INVALID', message: 'lease expired' });
  });
  app.post('/:gid/:nid/result', async (req, reply) => {
    const batch = Array.isArray(req.body) ? validated(resultBatch, req.body, reply) : [validated(resultSchema, req.body, reply)].filter((r) => r !== null);
    for (const r of batch ?? []) fake.results.set(r.id, [...(fake.results.get(r.id) ?? []), r]);
    return Array.isArray(req.body) ? (batch ?? []).map((r) => ({ id: r.id, ok: true })) : { ok: batch !== null && batch.length > 0 };
  });
  app.post('/:gid/:nid/log', async (req, reply) => {
    const batch = validated(logBatch, req.body, reply);
    if (batch) {
      fake.logs.push(...batch);
      fake.logBatches.push(batch.length);
    }
    return { ok: batch !== null };
  });
  app.post('/:gid/:nid/stats', async (req, reply) => {
    const batch = validated(statsBatch, req.body, reply);
    if (batch) fake.stats.push(batch);
    return { ok: batch !== null };
  });
  app.post('/:gid/:nid/event', async (req, reply) => {
    const event = validated(agentEvent, req.body, reply);
    if (event) fake.events.push(event);
    return { ok: event !== null };
  });
  app.post('/:gid/:nid/processes/finished', async (req, reply) => {
    const exits = validated(processExits, req.body, reply);
    if (exits) fake.exits.push(...exits);
    return { acknowledged: (exits ?? []).map((e) => e.id) };
  });
  app.get('/script', async (req, reply) => {
    const text = fake.scripts.get((req.query as { hash?: string }).hash ?? '');
    return text === undefined ? reply.code(404).send({ code: 'COX_NOT_FOUND', message: 'no such script' }) : reply.type('text/plain').send(text);
  });

  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const { port } = app.server.address() as { port: number };
  fake.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return fake;
}
