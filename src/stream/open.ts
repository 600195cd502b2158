/**
 * The calling side's handshake: an HTTP(S) GET that asks to switch to a coxswain stream. The
 * request carries what any request carries (token, client certificate), so a stream is
 * authenticated exactly like the routes it stands in for. A server that does not switch answers
 * with an ordinary HTTP error, which is passed on.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Errors } from '../shared/errors.js';
import { AnsweredError, STREAM_PROTOCOL } from './frames.js';

export interface OpenStreamOptions {
  /** `http(s)://host:port`, optionally with a path prefix. */
  url: string;
  /** The stream's path on the server: `/api/stream`, `/{gid}/{nid}/stream`. */
  path: string;
  headers?: Record<string, string>;
  tls?: { cert?: Buffer; key?: Buffer; ca?: Buffer };
  timeoutMs?: number;
}

export function openStream(opts: OpenStreamOptions): Promise<Socket> {
  const url = new URL(opts.url.replace(/\/+$/, '') + opts.path);
  const secure = url.protocol === 'https:';
  const request = secure ? https.request : http.request;
  return new Promise<Socket>((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      agent: false,
      headers: { ...opts.headers, connection: 'Upgrade', upgrade: STREAM_PROTOCOL },
      timeout: opts.timeoutMs ?? 10_000,
      ...(secure ? { ...opts.tls } : {}),
    });
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
      req.setTimeout(0);
      socket.setTimeout(0);
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.length < 64 && chunks.push(c));
      res.on('end', () => reject(refusal(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), url.pathname)));
      res.on('error', (err) => reject(Errors.UNREACHABLE(err.message)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', (err) => reject(Errors.UNREACHABLE(`${url.host}: ${err.message}`)));
    req.end();
  });
}

/** An HTTP answer other than the switch: the server's word, with its status. */
function refusal(status: number, text: string, path: string): AnsweredError {
  try {
    const e = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string' && typeof e.message === 'string') return new AnsweredError(e.code, e.message, status);
  } catch {
    // Not our server's JSON: say what it did answer.
  }
  return new AnsweredError(Errors.HTTP_ERROR.code, `GET ${path} (stream): HTTP ${status}: ${text.slice(0, 200)}`, status);
}
