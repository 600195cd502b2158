import { describe, expect, it } from 'vitest';
import { OpCode } from '../../../src/ops/codes.js';
import { OpSession } from '../../../src/ops/session.js';

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('OpSession', () => {
  it('moves forward only, stamping each status as a message', () => {
    const c = clock();
    const s = new OpSession(7, 'update', { now: c.now });
    expect(s.status).toBe('starting');
    expect(s.start_time).toBe(1_700_000_000);
    c.advance(1500);
    expect(s.setStatus('running')).toBe(true);
    expect(s.setStatus('starting')).toBe(false);
    expect(s.setStatus('running')).toBe(false);
    expect(s.status).toBe('running');
    c.advance(500);
    expect(s.setStatus('done')).toBe(true);
    expect(s.setStatus('stopping')).toBe(false);
    expect(s.end_time).toBe(1_700_000_002);
    expect(s.messages).toEqual([
      [1_700_000_000, 'Status is now "starting".'],
      [1_700_000_001.5, 'Status is now "running".'],
      [1_700_000_002, 'Status is now "done".'],
    ]);
  });

  it('derives op_code like OCS', () => {
    const s = new OpSession(0, 'x');
    expect(s.op_code).toBe(OpCode.STARTING);
    s.setStatus('running');
    expect(s.op_code).toBe(OpCode.RUNNING);
    s.degraded = true;
    expect(s.op_code).toBe(OpCode.DEGRADED);
    s.setStatus('stopping');
    expect(s.op_code).toBe(OpCode.STOPPING);
    s.setStatus('done');
    expect(s.op_code).toBe(OpCode.FAILED); // success still null
    s.success = true;
    expect(s.op_code).toBe(OpCode.SUCCEEDED);
  });

  it('keeps only the last maxMessages messages', () => {
    const s = new OpSession(0, 'x', { maxMessages: 3 });
    for (let i = 0; i < 10; i++) s.addMessage(`m${i}`);
    expect(s.messages.map(([, text]) => text)).toEqual(['m7', 'm8', 'm9']);
  });

  it('encodes a detached, JSON-safe snapshot', () => {
    const s = new OpSession(3, 'manager', { now: () => 2000 });
    s.data = { child_states: [{ id: 'a', stability: Number.NaN }] };
    const enc = s.encode();
    expect(enc).toMatchObject({
      session_id: 3, op_name: 'manager', op_code: 2, status: 'starting', degraded: false,
      success: null, start_time: 2, end_time: null,
      data: { child_states: [{ id: 'a', stability: null }] },
    });
    (s.data as { child_states: unknown[] }).child_states.push('later');
    s.addMessage('later');
    expect((enc.data as { child_states: unknown[] }).child_states).toHaveLength(1);
    expect(enc.messages).toHaveLength(1);
  });

  it('explains data JSON cannot hold instead of throwing', () => {
    const s = new OpSession(0, 'x');
    s.data = { n: 1n };
    expect(s.encode().data).toEqual({ error: expect.stringContaining('not JSON-serialisable') });
  });

  it('waitDone resolves on done, timeout or abort, whichever is first', async () => {
    const s = new OpSession(0, 'x');
    await expect(s.waitDone(0.02)).resolves.toBe(false);
    const ac = new AbortController();
    const aborted = s.waitDone(null, ac.signal);
    ac.abort();
    await expect(aborted).resolves.toBe(false);
    const done = s.waitDone(null);
    s.setStatus('done');
    await expect(done).resolves.toBe(true);
    await expect(s.finished).resolves.toBeUndefined();
    await expect(s.waitDone(0)).resolves.toBe(true);
  });
});
