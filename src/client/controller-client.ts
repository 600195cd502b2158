/** A typed client for the controller's client API (under /api), after JumpScale's agentcontroller client. */
import type { SessionList, SubmitRequest } from '../controller/controller.js';
import { DEFAULT_SCRIPT_TIMEOUT, waitSeconds } from '../controller/jumpscripts.js';
import { DEFAULT_CONTROLLER_PORT } from '../controller/options.js';
import type { JobSummary, JobView, NodeLog, StatsView } from '../controller/store/job-store.js';
import type { JobState } from '../protocol/job.js';
import { HttpClient, type HttpClientOptions } from './http.js';

export type { JobSummary, JobView, NodeLog, SessionList, StatsView, SubmitRequest };

export interface ExecuteJumpScriptOptions {
  gid?: number;
  /** Ignored when `role` is given, as in JumpScale. */
  nid?: number;
  role?: string;
  args?: Record<string, unknown>;
  /** Seconds the script may run; default 600. */
  timeout?: number;
  /** Default true: return the finished job. A number waits that many seconds at most. */
  wait?: boolean | number;
  queue?: string;
}

export const DEFAULT_CONTROLLER_URL = `http://127.0.0.1:${DEFAULT_CONTROLLER_PORT}`;
/** Room above a server-side wait for the reply to arrive. */
const REPLY_MARGIN_MS = 10_000;

export class ControllerClient {
  readonly #http: HttpClient;

  constructor(opts: Partial<HttpClientOptions> = {}) {
    this.#http = new HttpClient({ ...opts, url: opts.url ?? process.env.COX_CONTROLLER_URL ?? DEFAULT_CONTROLLER_URL });
  }

  /** Submits a job; with `wait` (seconds) the reply comes when it ended or the wait ran out. */
  submit(req: SubmitRequest): Promise<JobView> {
    return this.#http.request('POST', '/api/jobs', req, this.#replyTimeout(req.wait));
  }

  get(id: string): Promise<JobView> {
    return this.#http.request('GET', `/api/jobs/${encodeURIComponent(id)}`);
  }

  /** The job once it ended, or as it stands after `timeoutSec`. */
  wait(id: string, timeoutSec: number): Promise<JobView> {
    return this.#http.request('GET', `/api/jobs/${encodeURIComponent(id)}?wait=${timeoutSec}`, undefined, this.#replyTimeout(timeoutSec));
  }

  list(filter: { state?: JobState; limit?: number } = {}): Promise<JobSummary[]> {
    const query = new URLSearchParams();
    if (filter.state) query.set('state', filter.state);
    if (filter.limit !== undefined) query.set('limit', String(filter.limit));
    return this.#http.request('GET', `/api/jobs${query.size ? `?${query}` : ''}`);
  }

  kill(id: string): Promise<JobView> {
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
    return this.#http.request('GET', '/api/sessions');
  }

  /** Runs `<script-dir>/<organization>/<name>.*` on the node `nid`, or on a node having `role`. */
  executeJumpScript(organization: string, name: string, opts: ExecuteJumpScriptOptions = {}): Promise<JobView> {
    const wait = opts.wait ?? true;
    const timeout = opts.timeout ?? DEFAULT_SCRIPT_TIMEOUT;
    const body = { organization, name, ...opts, timeout, wait };
    return this.#http.request('POST', '/api/executeJumpScript', body, this.#replyTimeout(waitSeconds(wait, timeout)));
  }

  #replyTimeout(waitSec: number | undefined): number | undefined {
    return waitSec ? waitSec * 1000 + REPLY_MARGIN_MS : undefined;
  }
}
