/**
 * Calls and answers over one stream connection (frames.ts), for both ends: the side with a handler
 * answers the other's calls, the side that calls waits for answers. Many calls share the
 * connection at once, which is the point: no HTTP request per call, and the frames written in one
 * turn of the event loop leave in one write.
 */
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { CoxError, Errors, errorFacts } from '../shared/errors.js';
import { errorOf, LineSplitter, parseFrame, type Frame, type WireError } from './frames.js';

/** Answers one call of the other side; what it throws is sent back as the call's failure. */
export type StreamHandler = (op: string, body: unknown, signal: AbortSignal) => Promise<unknown>;

export interface StreamConnectionOptions {
  /** Names the other side in errors: `controller main`, `client 127.0.0.1:41234`. */
  label: string;
  /** Answers the other side's calls; without it, each is refused. */
  handler?: StreamHandler;
  /** Calls of the other side in progress at once; past it, reading pauses until some end. */
  maxServing?: number;
  /** Lets the process exit while none of our calls is in flight (clients that are never closed). */
  unrefWhenIdle?: boolean;
  /** A call failed with a fault of ours (status ≥ 500), or the other side broke the protocol. */
  onFault?: (err: unknown, op: string | null) => void;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** No answer in this long fails the call (UNREACHABLE) and tells the other side to give up. */
  timeoutMs?: number;
}

interface Pending {
  op: string;
  resolve: (body: unknown) => void;
  reject: (err: unknown) => void;
  done: () => void;
}

const DEFAULT_MAX_SERVING = 10_000;

export class StreamConnection {
  readonly #socket: Socket;
  readonly #opts: StreamConnectionOptions;
  readonly #lines = new LineSplitter();
  readonly #pending = new Map<number, Pending>();
  readonly #serving = new Map<number, AbortController>();
  #nextId = 1;
  #out: string[] = [];
  #flushing = false;
  #paused = false;
  /** The other side will send nothing more: end ours once every call it made is answered. */
  #peerDone = false;
  #failure: CoxError | null = null;
  /** Set by a protocol error: the last frame we send, and no line after it is read. */
  #fatal: string | null = null;
  #closed = false;
  readonly #closedPromise: Promise<void>;

  constructor(socket: Socket, opts: StreamConnectionOptions) {
    this.#socket = socket;
    this.#opts = opts;
    // Decoded here, not with setEncoding: an HTTP server's sockets refuse that even after the upgrade.
    const decoder = new StringDecoder('utf8');
    socket.setNoDelay(true);
    // A peer that vanished without a FIN (power cut, cable) is noticed instead of waited on forever.
    socket.setKeepAlive(true, 15_000);
    if (opts.unrefWhenIdle) socket.unref();
    let closed!: () => void;
    this.#closedPromise = new Promise((resolve) => (closed = resolve));
    socket.on('data', (chunk: Buffer) => this.#read(decoder.write(chunk)));
    socket.on('end', () => {
      this.#peerDone = true;
      // What it asked is still answered, but nothing is waited for on its behalf: a process that
      // died ends its side this way, and a poll it left open would be handed jobs nobody takes.
      for (const abort of this.#serving.values()) abort.abort();
      this.#endIfAnswered();
    });
    socket.on('error', (err) => (this.#failure ??= Errors.UNREACHABLE(`${opts.label}: ${err.message}`)));
    socket.on('drain', () => this.#resumeIfRoom());
    socket.on('close', () => {
      this.#teardown();
      closed();
    });
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Resolves once the connection is gone, whichever side ended it. */
  get closed(): Promise<void> {
    return this.#closedPromise;
  }

  /** Calls `op` on the other side: its answer, or its failure as a CoxError. */
  call(op: string, body?: unknown, opts: CallOptions = {}): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#failure ?? Errors.UNREACHABLE(`${this.#opts.label}: connection closed`));
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.#giveUp(id, opts.signal!.reason);
      const done = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
        if (this.#opts.unrefWhenIdle && this.#pending.size === 0 && !this.#closed) this.#socket.unref();
      };
      this.#pending.set(id, { op, resolve, reject, done });
      if (this.#opts.unrefWhenIdle && this.#pending.size === 1) this.#socket.ref();
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => this.#giveUp(id, Errors.UNREACHABLE(`${this.#opts.label}: no answer to ${op} within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.#send(body === undefined ? { id, op } : { id, op, body });
    });
  }

  /** Ends the connection after what is already written; calls in flight fail. */
  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#socket.end();
    // A peer that never answers the FIN must not hold the socket open.
    setTimeout(() => this.#socket.destroy(), 2000).unref();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#socket.destroy();
  }

  #giveUp(id: number, reason: unknown): void {
    const p = this.#pending.get(id);
    if (!p) return;
    p.done();
    p.reject(reason);
    if (!this.#closed) this.#send({ cancel: id });
  }

  #read(chunk: string): void {
    if (this.#fatal) return;
    let lines: string[];
    try {
      lines = this.#lines.push(chunk);
    } catch (err) {
      return this.#protocolError(err);
    }
    for (const line of lines) {
      let frame: Frame;
      try {
        frame = parseFrame(line);
      } catch (err) {
        return this.#protocolError(err);
      }
      this.#take(frame);
      if (this.#closed || this.#fatal) return;
    }
  }

  #take(frame: Frame): void {
    switch (frame.kind) {
      case 'call':
        return this.#serve(frame.id, frame.op, frame.body);
      case 'answer':
      case 'failure': {
        // An answer to a call we gave up on has nobody to go to.
        const p = this.#pending.get(frame.id);
        if (!p) return;
        p.done();
        if (frame.kind === 'answer') p.resolve(frame.body);
        else p.reject(errorOf(frame.error));
        return;
      }
      case 'cancel':
        this.#serving.get(frame.id)?.abort();
        return;
      case 'fatal':
        this.#failure ??= Errors.BAD_RESPONSE(`${this.#opts.label} hung up: ${frame.error.message}`);
        return;
    }
  }

  #serve(id: number, op: string, body: unknown): void {
    const handler = this.#opts.handler;
    if (!handler) return this.#send({ id, error: wire(Errors.NOT_FOUND(`operation "${op}" (this side answers no calls)`)) });
    if (this.#serving.has(id)) return this.#protocolError(Errors.BAD_REQUEST(`stream frame.id: call ${id} is already in progress`));
    const abort = new AbortController();
    this.#serving.set(id, abort);
    if (this.#serving.size >= (this.#opts.maxServing ?? DEFAULT_MAX_SERVING)) this.#pause();
    let answer: Promise<unknown>;
    try {
      answer = handler(op, body, abort.signal);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (result) => this.#answered(id, result === undefined ? { id } : { id, body: result }),
      (err: unknown) => {
        const facts = errorFacts(err);
        if (facts.status >= 500) this.#opts.onFault?.(err, op);
        this.#answered(id, { id, error: facts });
      },
    );
  }

  #answered(id: number, frame: object): void {
    this.#serving.delete(id);
    if (this.#closed) return;
    this.#send(frame);
    this.#resumeIfRoom();
    this.#endIfAnswered();
  }

  #send(frame: object): void {
    this.#out.push(JSON.stringify(frame));
    if (this.#flushing) return;
    this.#flushing = true;
    // Everything sent during this turn (all answers a batch commit released) leaves in one write.
    process.nextTick(() => this.#flush());
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#out.length === 0 || this.#closed) return;
    const data = `${this.#out.join('\n')}\n`;
    this.#out = [];
    // A caller that does not read its answers is not given more to answer until it does.
    if (!this.#socket.write(data) && this.#opts.handler) this.#pause();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#socket.pause();
  }

  #resumeIfRoom(): void {
    if (!this.#paused || this.#fatal || this.#socket.writableNeedDrain || this.#serving.size >= (this.#opts.maxServing ?? DEFAULT_MAX_SERVING)) return;
    this.#paused = false;
    this.#socket.resume();
  }

  #endIfAnswered(): void {
    if (!this.#peerDone || this.#serving.size > 0 || this.#closed) return;
    if (this.#fatal) this.#out.push(this.#fatal);
    this.#flush();
    this.#socket.end();
  }

  /**
   * Reads nothing more; answers the calls already taken, then tells the other side what was wrong
   * with its line and hangs up.
   */
  #protocolError(err: unknown): void {
    this.#opts.onFault?.(err, null);
    this.#failure ??= Errors.BAD_RESPONSE(`${this.#opts.label}: ${(err as Error).message}`);
    this.#fatal = JSON.stringify({ error: errorFacts(err) });
    this.#peerDone = true;
    this.#pause();
    this.#endIfAnswered();
  }

  #teardown(): void {
    this.#closed = true;
    const failure = this.#failure ?? Errors.UNREACHABLE(`${this.#opts.label}: connection closed`);
    for (const p of [...this.#pending.values()]) {
      p.done();
      p.reject(failure);
    }
    for (const abort of this.#serving.values()) abort.abort();
    this.#serving.clear();
  }
}

function wire(err: CoxError): WireError {
  return { status: err.statusCode, code: err.code, message: err.message };
}
