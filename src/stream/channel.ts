/**
 * A caller's stream that is there when needed: opened at the first call, opened again at the next
 * call after it broke or after a call went unanswered past its timeout. A call caught by the
 * break fails (UNREACHABLE) like an HTTP request whose connection dropped; whether to retry it is
 * the caller's decision, since only it knows whether the call may be repeated.
 */
import type { Socket } from 'node:net';
import { Errors, isCoxError } from '../shared/errors.js';
import { StreamConnection, type CallOptions } from './connection.js';

export interface StreamChannelOptions {
  /** Makes the connection (the HTTP upgrade: open.ts). */
  open: () => Promise<Socket>;
  label: string;
  unrefWhenIdle?: boolean;
}

export class StreamChannel {
  readonly #opts: StreamChannelOptions;
  #connection: Promise<StreamConnection> | null = null;
  #closed = false;

  constructor(opts: StreamChannelOptions) {
    this.#opts = opts;
  }

  async call(op: string, body?: unknown, opts: CallOptions = {}): Promise<unknown> {
    const opening = this.#connect();
    const conn = await opening;
    try {
      return await conn.call(op, body, opts);
    } catch (err) {
      // No answer in time: the other side (or the path to it) is gone without a FIN, which TCP
      // keepalive would take minutes to notice. The next call starts on a new connection.
      if (isCoxError(err, Errors.UNREACHABLE)) {
        if (this.#connection === opening) this.#connection = null;
        conn.destroy();
      }
      throw err;
    }
  }

  /** Whether a connection is open right now (not whether the next call will succeed). */
  get connected(): boolean {
    return this.#connection !== null;
  }

  close(): void {
    this.#closed = true;
    const c = this.#connection;
    this.#connection = null;
    void c?.then((conn) => conn.close(), () => {});
  }

  #connect(): Promise<StreamConnection> {
    if (this.#closed) return Promise.reject(Errors.ILLEGAL_STATE(`${this.#opts.label}: the stream was closed by its owner`));
    if (this.#connection) return this.#connection;
    const opening = this.#opts.open().then((socket) => {
      const conn = new StreamConnection(socket, { label: this.#opts.label, ...(this.#opts.unrefWhenIdle ? { unrefWhenIdle: true } : {}) });
      void conn.closed.then(() => {
        if (this.#connection === opening) this.#connection = null;
      });
      if (this.#closed) conn.close();
      return conn;
    });
    this.#connection = opening;
    // A failed handshake is forgotten at once, so the next call tries again.
    opening.catch(() => {
      if (this.#connection === opening) this.#connection = null;
    });
    return opening;
  }
}
