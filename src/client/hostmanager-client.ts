/** A typed client for a host manager's HTTP API (REST under /api). */
import type { ChildState } from '../hostmanager/child/child-state.js';
import type { ParseStatus } from '../hostmanager/config-state.js';
import type { OpsDescription } from '../ops/types.js';
import type { SessionJSON } from '../ops/session.js';
import { CoxError, Errors } from '../shared/errors.js';
import { HttpClient, type HttpClientOptions } from './http.js';

export interface ChildrenView {
  host: string | null;
  instance_id: string;
  manager: { running: boolean; status: string | null; success: boolean | null };
  children: ChildState[];
  /** The instance-ids the manager supervises once it runs (from the last good SCF), even while it is stopped. */
  configured: string[];
  config_parse_status: ParseStatus;
}

export interface OpReply {
  code: number;
  message: string;
  session: SessionJSON | Record<string, never>;
}

export type TargetRequest = [string, 'up' | 'down'];

export class HostManagerClient {
  private readonly http: HttpClient;

  constructor(private readonly opts: HttpClientOptions) {
    this.http = new HttpClient(opts);
  }

  children(): Promise<ChildrenView> {
    return this.http.request('GET', '/api/children');
  }

  async logs(instanceId: string, lines = 100): Promise<{ instance_id: string; file: string; lines: string[] }> {
    return this.http.request('GET', `/api/children/${childSegment(instanceId)}/logs?lines=${lines}`);
  }

  /**
   * The last `lines` lines of a child's log, then everything it writes, as text as it comes,
   * across the child's restarts and log rotations; ends when `signal` aborts or the host manager
   * closes the stream. Errors before streaming starts are thrown like every other call's.
   */
  async *follow(instanceId: string, lines = 100, signal?: AbortSignal): AsyncGenerator<string> {
    const url = new URL(`/api/children/${childSegment(instanceId)}/logs?lines=${lines}&follow=true`, this.opts.url);
    let res: Response;
    try {
      res = await fetch(url, { headers: this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}, signal: signal ?? null });
    } catch (err) {
      if (signal?.aborted) throw err;
      const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
      throw Errors.UNREACHABLE(String(cause?.code ?? cause?.message ?? (err as Error).message));
    }
    if (!res.ok || res.body === null) {
      const e = (await res.json().catch(() => null)) as { code?: string; message?: string } | null;
      if (e?.code && e.message) throw new CoxError(e.code, e.message, res.status);
      throw Errors.HTTP_ERROR(`GET ${url.pathname}: HTTP ${res.status}`);
    }
    const decoder = new TextDecoder();
    for await (const chunk of res.body) yield decoder.decode(chunk, { stream: true });
  }

  ops(): Promise<OpsDescription> {
    return this.http.request('GET', '/api/ops');
  }

  start(op: string, params: object = {}): Promise<OpReply> {
    return this.http.request('POST', `/api/ops/${encodeURIComponent(op)}/start`, params);
  }

  stop(op: string): Promise<OpReply> {
    return this.http.request('POST', `/api/ops/${encodeURIComponent(op)}/stop`, {});
  }

  status(op: string): Promise<OpReply> {
    return this.http.request('GET', `/api/ops/${encodeURIComponent(op)}`);
  }

  /** `timeoutSec` null waits until done; the HTTP timeout is set a little above the op's. */
  wait(op: string, timeoutSec: number | null): Promise<OpReply> {
    const httpTimeout = timeoutSec === null ? 24 * 3600_000 : timeoutSec * 1000 + 5_000;
    return this.http.request('POST', `/api/ops/${encodeURIComponent(op)}/wait`, { timeout: timeoutSec }, httpTimeout);
  }

  /**
   * Sets target states as ocsbow does: through `update` when the manager runs, otherwise by
   * starting `manager` with every other child down and these requests applied.
   */
  async update(requests: TargetRequest[], opts: { reloadConfig?: boolean } = {}): Promise<OpReply> {
    const view = await this.children();
    if (!view.manager.running) {
      return this.start('manager', { requests: [['all', 'down'], ...requests] });
    }
    const started = await this.start('update', { requests, reload_config: opts.reloadConfig ?? false });
    if (started.code !== 0) return started;
    return this.wait('update', 30);
  }
}

/**
 * An instance-id as one URL path segment. `.` and `..` are dot-segments, which URL resolution
 * removes however they are escaped, so the request would reach another route; the SCF loader
 * refuses them, so no child has them.
 */
function childSegment(id: string): string {
  if (id === '.' || id === '..') throw Errors.NOT_FOUND(`child "${id}"`);
  return encodeURIComponent(id);
}
