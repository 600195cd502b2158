/**
 * Takes the controller's HTTP(S) connections that ask to become streams (stream/frames.ts):
 *   GET /api/stream           a client's calls (ops.ts)
 *   GET /{gid}/{nid}/stream   an agent's protocol, for that node only
 * with `Connection: Upgrade` and `Upgrade: cox-stream/1`. The handshake is authorized like the
 * routes it stands in for (token; or for a node, a certificate naming it), and refused with the
 * same JSON errors. Any other upgrade (a WebSocket, h2c) is refused: this server speaks no other.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Errors, type CoxError } from '../../shared/errors.js';
import { StreamConnection, type StreamHandler } from '../../stream/connection.js';
import { STREAM_PROTOCOL } from '../../stream/frames.js';
import type { Controller } from '../controller.js';
import { authorizer, verifiedCommonName, type Audience } from '../http/auth.js';
import { agentOps, clientOps } from './ops.js';

export interface StreamAcceptorOptions {
  controller: Controller;
  scriptDir: string;
  logger: Logger;
  token?: string;
}

const NODE_STREAM = /^\/(\d{1,9})\/(\d{1,9})\/stream$/;

export class StreamAcceptor {
  readonly #connections = new Set<StreamConnection>();
  readonly #opts: StreamAcceptorOptions;
  readonly #authorize: ReturnType<typeof authorizer>;
  readonly #clientOps: StreamHandler;
  #closing = false;

  constructor(server: Server, opts: StreamAcceptorOptions) {
    this.#opts = opts;
    this.#authorize = authorizer(opts.token);
    this.#clientOps = clientOps(opts.controller, opts.scriptDir);
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      try {
        this.#accept(req, socket, head);
      } catch (err) {
        // Nothing a caller sends may take the controller down; this one connection goes.
        opts.logger.error({ err }, 'stream handshake failed');
        socket.destroy();
      }
    });
  }

  get size(): number {
    return this.#connections.size;
  }

  /** Ends every stream after what it has already written (answers released by the controller's close). */
  close(): void {
    this.#closing = true;
    for (const c of this.#connections) c.close();
  }

  #accept(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {}); // a reset during the handshake is the peer's business
    const asked = String(req.headers.upgrade ?? '').toLowerCase();
    if (asked !== STREAM_PROTOCOL) return refuse(socket, Errors.BAD_REQUEST(`upgrade to "${asked}" is not offered; this server speaks ${STREAM_PROTOCOL}`));
    if (this.#closing) return refuse(socket, Errors.UNREACHABLE('the controller is shutting down'));
    const path = (req.url ?? '').split('?', 1)[0]!;
    const m = NODE_STREAM.exec(path);
    const audience: Audience | null = path === '/api/stream' ? { kind: 'client' } : m ? { kind: 'node', gid: m[1]!, nid: m[2]!, node: { gid: Number(m[1]), nid: Number(m[2]) } } : null;
    if (!audience) return refuse(socket, Errors.NOT_FOUND(`stream ${path} (streams: /api/stream, /{gid}/{nid}/stream)`));
    const denied = this.#authorize(audience, header(req.headers.authorization), verifiedCommonName(socket));
    if (denied) return refuse(socket, denied);

    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${STREAM_PROTOCOL}\r\n\r\n`);
    if (head.length > 0) socket.unshift(head);
    const node = audience.kind === 'node' ? audience.node! : null;
    const label = node ? `agent ${node.gid}_${node.nid}` : `client ${socket.remoteAddress}:${socket.remotePort}`;
    const log = this.#opts.logger;
    const conn = new StreamConnection(socket, {
      label,
      handler: node ? agentOps(this.#opts.controller, node) : this.#clientOps,
      onFault: (err, op) => (op ? log.error({ err, op, stream: label }, 'stream call failed') : log.warn({ stream: label, err: (err as Error).message }, 'stream closed: protocol error')),
    });
    this.#connections.add(conn);
    void conn.closed.then(() => this.#connections.delete(conn));
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function refuse(socket: Socket, err: CoxError): void {
  const body = JSON.stringify({ code: err.code, message: err.message });
  socket.end(
    `HTTP/1.1 ${err.statusCode} ${STATUS_CODES[err.statusCode] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
