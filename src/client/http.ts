/** Minimal JSON-over-HTTP for the typed clients: a base URL, an optional bearer token, timeouts. */
import { CoxError, Errors } from '../shared/errors.js';

export interface HttpClientOptions {
  url: string;
  token?: string;
  /** Per request, in ms; long waits pass their own. */
  timeoutMs?: number;
}

export class HttpClient {
  constructor(private readonly opts: HttpClientOptions) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = this.opts.timeoutMs ?? 10_000): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const url = new URL(path, this.opts.url);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw Errors.UNREACHABLE(String(why));
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw Errors.BAD_RESPONSE(`${method} ${url.pathname}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = json as { code?: string; message?: string } | null;
      if (e?.code && e.message) throw new CoxError(e.code, e.message, res.status);
      throw Errors.HTTP_ERROR(`${method} ${url.pathname}: HTTP ${res.status}`);
    }
    return json as T;
  }
}
