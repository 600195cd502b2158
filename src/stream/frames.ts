/**
 * The frames of a coxswain stream: one JSON object per line (NDJSON) on a connection upgraded from
 * HTTP (`Upgrade: cox-stream/1`, as Docker upgrades `attach` to a raw stream). Either side may
 * call the other; in practice clients and agents call and the controller answers.
 *
 *   {"id": 7, "op": "submit", "body": {...}}                          a call
 *   {"id": 7, "body": {...}}                                          its answer
 *   {"id": 7, "error": {"status": 409, "code": "COX_…", "message": "…"}}  or its failure
 *   {"cancel": 7}                                                     the caller gave up on call 7
 *   {"error": {...}}                                                  the sender hangs up, and why
 *
 * A call's id is the caller's, unique among its calls in flight. Answers may come in any order.
 * A line that is not such a frame ends the connection: after it nothing on the line can be trusted.
 */
import { CoxError, Errors } from '../shared/errors.js';

export const STREAM_PROTOCOL = 'cox-stream/1';

/** As large as an HTTP body may be (a log batch), in characters: a longer line is refused. */
export const MAX_LINE = 16 * 1024 * 1024;

export interface WireError {
  status: number;
  code: string;
  message: string;
}

export type Frame =
  | { kind: 'call'; id: number; op: string; body: unknown }
  | { kind: 'answer'; id: number; body: unknown }
  | { kind: 'failure'; id: number; error: WireError }
  | { kind: 'cancel'; id: number }
  | { kind: 'fatal'; error: WireError };

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Reads one line; throws BAD_REQUEST naming what is wrong with it. */
export function parseFrame(line: string): Frame {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw Errors.BAD_REQUEST(`stream frame: not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw Errors.BAD_REQUEST('stream frame: expected a JSON object');
  const f = raw as Record<string, unknown>;
  if ('cancel' in f) {
    if (!isId(f.cancel)) throw Errors.BAD_REQUEST('stream frame.cancel: expected a call id (a non-negative integer)');
    return { kind: 'cancel', id: f.cancel };
  }
  if (!('id' in f) && 'error' in f) return { kind: 'fatal', error: wireError(f.error) };
  if (!isId(f.id)) throw Errors.BAD_REQUEST('stream frame.id: expected a call id (a non-negative integer)');
  if ('op' in f) {
    if (typeof f.op !== 'string' || f.op === '') throw Errors.BAD_REQUEST('stream frame.op: expected the name of an operation');
    return { kind: 'call', id: f.id, op: f.op, body: f.body };
  }
  if ('error' in f) return { kind: 'failure', id: f.id, error: wireError(f.error) };
  return { kind: 'answer', id: f.id, body: f.body ?? null };
}

function wireError(e: unknown): WireError {
  const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
  if (typeof o.status !== 'number' || typeof o.code !== 'string' || typeof o.message !== 'string') {
    throw Errors.BAD_REQUEST('stream frame.error: expected {status, code, message}');
  }
  return { status: o.status, code: o.code, message: o.message };
}

/** The other side's answer was a failure (a failure frame, or an HTTP error to the handshake). */
export class AnsweredError extends CoxError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
  ) {
    super(code, message, status);
  }
}

/** The error a failure frame stands for, as the caller sees it. */
export function errorOf(e: WireError): AnsweredError {
  return new AnsweredError(e.code, e.message, e.status);
}

/**
 * Cuts decoded text into lines. The caller decodes with a StringDecoder, so a character split
 * across chunks arrives whole.
 */
export class LineSplitter {
  #partial = '';

  constructor(private readonly maxLine = MAX_LINE) {}

  /** The complete lines `chunk` ends, blank ones left out; throws BAD_REQUEST when a line grows past the limit. */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      const line = this.#partial === '' ? chunk.slice(start, nl) : this.#partial + chunk.slice(start, nl);
      this.#partial = '';
      if (line !== '' && line !== '\r') lines.push(line);
      start = nl + 1;
    }
    if (start < chunk.length) this.#partial += chunk.slice(start);
    if (this.#partial.length > this.maxLine) throw Errors.BAD_REQUEST(`stream frame: a line longer than ${this.maxLine} characters`);
    return lines;
  }
}
