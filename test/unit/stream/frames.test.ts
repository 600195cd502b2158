import { describe, expect, it } from 'vitest';
import { LineSplitter, parseFrame } from '../../../src/stream/frames.js';

describe('LineSplitter', () => {
  it('joins lines split across chunks and leaves blank lines out', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2')).toEqual([]);
    expect(s.push('}\n\n\r\n{"c":3}\n')).toEqual(['{"b":2}', '{"c":3}']);
  });

  it('refuses a line that grows past the limit, even before it ends', () => {
    const s = new LineSplitter(8);
    expect(s.push('12345')).toEqual([]);
    expect(() => s.push('6789')).toThrow('stream frame: a line longer than 8 characters');
  });
});

describe('parseFrame', () => {
  it('tells calls, answers, failures, cancels and hang-ups apart', () => {
    expect(parseFrame('{"id":1,"op":"submit","body":{"cmd":"x"}}')).toEqual({ kind: 'call', id: 1, op: 'submit', body: { cmd: 'x' } });
    expect(parseFrame('{"id":1}')).toEqual({ kind: 'answer', id: 1, body: null });
    expect(parseFrame('{"id":2,"body":[1]}')).toEqual({ kind: 'answer', id: 2, body: [1] });
    expect(parseFrame('{"id":3,"error":{"status":409,"code":"C","message":"m"}}')).toEqual({ kind: 'failure', id: 3, error: { status: 409, code: 'C', message: 'm' } });
    expect(parseFrame('{"cancel":4}')).toEqual({ kind: 'cancel', id: 4 });
    expect(parseFrame('{"error":{"status":400,"code":"C","message":"bad"}}')).toEqual({ kind: 'fatal', error: { status: 400, code: 'C', message: 'bad' } });
  });

  it.each([
    ['nope', /^stream frame: not valid JSON/],
    ['[1]', 'stream frame: expected a JSON object'],
    ['{"op":"x"}', 'stream frame.id: expected a call id (a non-negative integer)'],
    ['{"id":-1,"op":"x"}', 'stream frame.id: expected a call id (a non-negative integer)'],
    ['{"id":1.5,"op":"x"}', 'stream frame.id: expected a call id (a non-negative integer)'],
    ['{"id":1,"op":""}', 'stream frame.op: expected the name of an operation'],
    ['{"cancel":"1"}', 'stream frame.cancel: expected a call id (a non-negative integer)'],
    ['{"id":1,"error":"boom"}', 'stream frame.error: expected {status, code, message}'],
  ])('refuses %s, saying what is wrong', (line, message) => {
    expect(() => parseFrame(line)).toThrow(message);
    try {
      parseFrame(line);
    } catch (err) {
      expect(err).toMatchObject({ code: 'COX_BAD_REQUEST', statusCode: 400 });
    }
  });
});
