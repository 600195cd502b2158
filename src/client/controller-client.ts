/**
 * A typed client for the controller's client API (under /api), after JumpScale's agentcontroller
 * client, and MUSCLE3's AgentManager for named processes (`cancel_all` is `cancelAll`, and so on).
 *
 * `transport: 'stream'` sends jobs (submit, get, wait, kill, listSessions, executeJumpScript)
 * over one upgraded connection (src/stream/) instead of one HTTP request each: many calls in
 * flight share it, which is what a client submitting thousands of jobs wants. The connection does
 * not keep the process alive while no call is in flight; `close()` ends it.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionList, SubmitRequest } from '../controller/controller.js';
import { DEFAULT_SCRIPT_TIMEOUT, waitSeconds, type ExecuteJumpScriptRequest } from '../controller/jumpscripts.js';
import { DEFAULT_CONTROLLER_PORT } from '../controller/options.js';
import type { CancelReport, StartedProcess } from '../controller/processes.js';
import type { JobSummary, JobView, NodeLog, StatsView } from '../controller/store/job-store.js';
import type { FinishedProcess, ProcessView } from '../controller/store/process-store.js';
import type { JobState } from '../protocol/job.js';
import type { Cores } from '../protocol/process.js';
import { Errors, isCoxError } from '../shared/errors.js';
import { StreamChannel } from '../stream/channel.js';
import { openStream } from '../stream/open.js';
import { HttpClient, type HttpClientOptions } from './http.js';

export type { CancelReport, Cores, FinishedProcess, JobSummary, JobView, NodeLog, ProcessView, SessionList, StartedProcess, StatsView, SubmitRequest };

export interface GetFinishedOptions {
  /** Seconds to wait for a process to finish when none has (default 0: answer at once). */
  wait?: number;
  /** How long to keep asking, with the same key, while the controller is unreachable (default 30 s). */
  retryForMs?: number;
}

/** What the controller takes besides organization and name; the client waits (`wait: true`) unless told not to. */
export type ExecuteJumpScriptOptions = Omit<ExecuteJumpScriptRequest, 'organization' | 'name'>;

export const DEFAULT_CONTROLLER_URL = `http://127.0.0.1:${DEFAULT_CONTROLLER_PORT}`;
/** Room above a server-side wait for the reply to arrive. */
const REPLY_MARGIN_MS = 10_000;

export interface ControllerClientOptions extends Partial<HttpClientOptions> {
  /** `http` (default): a request per call. `stream`: job calls share one connection. */
  transport?: 'http' | 'stream';
}

export class ControllerClient {
  readonly #http: HttpClient;
  readonly #stream: StreamChannel | null;
  readonly #timeoutMs: number;

  constructor(opts: ControllerClientOptions = {}) {
    const { transport, ...http } = opts;
    const url = opts.url ?? process.env.COX_CONTROLLER_URL ?? DEFAULT_CONTROLLER_URL;
    this.#http = new HttpClient({ ...http, url });
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    this.#stream = transport === 'stream' ? new StreamChannel({ label: `controller ${url}`, unrefWhenIdle: true, open: () => openStream({ url, path: '/api/stream', headers, timeoutMs: this.#timeoutMs }) }) : null;
  }

  /** Submits a job; with `wait` (seconds) the reply comes when it ended or the wait ran out. */
  submit(req: SubmitRequest): Promise<JobView> {
    if (this.#stream) return this.#call('submit', req, req.wait);
    return this.#http.request('POST', '/api/jobs', req, this.#replyTimeout(req.wait));
  }

  get(id: string): Promise<JobView> {
    if (this.#stream) return this.#call('get', { id });
    return this.#http.request('GET', `/api/jobs/${encodeURIComponent(id)}`);
  }

  /** The job once it ended, or as it stands after `timeoutSec`. */
  wait(id: string, timeoutSec: number): Promise<JobView> {
    if (this.#stream) return this.#call('get', { id, wait: timeoutSec }, timeoutSec);
    return this.#http.request('GET', `/api/jobs/${encodeURIComponent(id)}?wait=${timeoutSec}`, undefined, this.#replyTimeout(timeoutSec));
  }

  /** Ends the stream connection, if there is one; calls in flight fail. */
  close(): void {
    this.#stream?.close();
  }

  list(filter: { state?: JobState; limit?: number } = {}): Promise<JobSummary[]> {
    const query = new URLSearchParams();
    if (filter.state) query.set('state', filter.state);
    if (filter.limit !== undefined) query.set('limit', String(filter.limit));
    return this.#http.request('GET', `/api/jobs${query.size ? `?${query}` : ''}`);
  }

  kill(id: string): Promise<JobView> {
    if (this.#stream) return this.#call('kill', { id });
    return this.#http.request('POST', `/api/jobs/${encodeURIComponent(id)}/kill`);
  }

  logs(id: string, limit?: number): Promise<NodeLog[]> {
    return this.#http.request('GET', `/api/jobs/${encodeURIComponent(id)}/logs${limit === undefined ? '' : `?limit=${limit}`}`);
  }

  /** A node's latest stats batch and its recent history (oldest first). */
  stats(gid: number, nid: number): Promise<StatsView> {
    return this.#http.request('GET', `/api/stats?gid=${gid}&nid=${nid}`);
  }

  /** `{"<gid>_<nid>": [last_seen_epoch_seconds, role, ...]}` for every live node. */
  listSessions(): Promise<SessionList> {
    if (this.#stream) return this.#call('sessions');
    return this.#http.request('GET', '/api/sessions');
  }

  /** Runs `<script-dir>/<organization>/<name>.*` on the node `nid`, or on a node having `role`. */
  executeJumpScript(organization: string, name: string, opts: ExecuteJumpScriptOptions = {}): Promise<JobView> {
    const wait = opts.wait ?? true;
    const timeout = opts.timeout ?? DEFAULT_SCRIPT_TIMEOUT;
    const body = { organization, name, ...opts, timeout, wait };
    if (this.#stream) return this.#call('executeJumpScript', body, waitSeconds(wait, timeout));
    return this.#http.request('POST', '/api/executeJumpScript', body, this.#replyTimeout(waitSeconds(wait, timeout)));
  }

  /**
   * Starts `args` (the executable, then its arguments) as the process `name` on the node
   * `nodeName` (`<gid>_<nid>`, exactly), in `workDir`, with `env` added to the agent's
   * environment; `stdout` and `stderr` are overwritten. Paths are absolute, on the node.
   */
  start(nodeName: string, name: string, workDir: string, args: string[], env: Record<string, string>, stdout: string, stderr: string): Promise<StartedProcess> {
    return this.#http.request('POST', '/api/processes', { node: nodeName, name, work_dir: workDir, args, env, stdout, stderr });
  }

  /** Kills the process group of every process the agents started; withdraws starts not yet taken. */
  cancelAll(): Promise<CancelReport> {
    return this.#http.request('POST', '/api/processes/cancel_all');
  }

  /** `[name, exit_code]` of every process that finished since the last call; each once. */
  async getFinished(opts: GetFinishedOptions = {}): Promise<[string, number][]> {
    return (await this.getFinishedDetails(opts)).map((p) => [p.name, p.exit_code]);
  }

  /**
   * getFinished with the node, the reason and the time of each end. The call carries a fresh key;
   * if its reply is lost (the controller died, the connection broke), it is asked again with the
   * same key, which answers the same batch: nothing is handed out and then dropped.
   */
  async getFinishedDetails(opts: GetFinishedOptions = {}): Promise<FinishedProcess[]> {
    const body = { key: randomUUID(), ...(opts.wait ? { wait: opts.wait } : {}) };
    const deadline = Date.now() + (opts.retryForMs ?? 30_000);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#http.request('POST', '/api/processes/finished', body, this.#replyTimeout(opts.wait));
      } catch (err) {
        if (!isCoxError(err, Errors.UNREACHABLE) || Date.now() >= deadline) throw err;
        await sleep(Math.min(1000, 100 * attempt));
      }
    }
  }

  /** Per connected node, its logical hardware-thread ids grouped per core. */
  getResources(): Promise<Record<string, Cores>> {
    return this.#http.request('GET', '/api/resources');
  }

  /** Every process the controller knows, newest first, with its state (does not hand any out). */
  processes(limit?: number): Promise<ProcessView[]> {
    return this.#http.request('GET', `/api/processes${limit === undefined ? '' : `?limit=${limit}`}`);
  }

  async #call<T>(op: string, body?: unknown, waitSec?: number): Promise<T> {
    return (await this.#stream!.call(op, body, { timeoutMs: this.#replyTimeout(waitSec) ?? this.#timeoutMs })) as T;
  }

  #replyTimeout(waitSec: number | undefined): number | undefined {
    return waitSec ? waitSec * 1000 + REPLY_MARGIN_MS : undefined;
  }
}
