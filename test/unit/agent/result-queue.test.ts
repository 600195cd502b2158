import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ResultQueue } from '../../../src/agent/transport/result-queue.js';
import type { BatchOutcome, Result } from '../../../src/protocol/job.js';
import { Errors } from '../../../src/shared/errors.js';

const mk = (id: string): Result => ({ id, gid: 1, nid: 10, cmd: 'x', data: '', level: 0, state: 'SUCCESS', starttime: 0, time: 0, streams: ['', ''], critical: '', tags: '' });

/** A controller whose answers to each post are scripted; `lost` is no answer, a number an HTTP status. */
function setup(answers: ('lost' | number | ((ids: string[]) => BatchOutcome[]))[], attempts = 3) {
  const posts: string[][] = [];
  let release: () => void = () => {};
  const gate = { closed: false };
  const queue = new ResultQueue({
    controller: 'main',
    logger: pino({ level: 'silent' }),
    backoff: { baseMs: 1, maxMs: 2, jitter: 0 },
    attempts,
    post: async (batch) => {
      const ids = batch.map((r) => r.id);
      posts.push(ids);
      if (gate.closed) await new Promise<void>((r) => (release = r));
      const a = answers.shift() ?? ((all: string[]) => all.map((id) => ({ id, ok: true as const })));
      if (a === 'lost') throw Errors.UNREACHABLE('socket hang up');
      if (typeof a === 'number') throw Object.assign(Errors.HTTP_ERROR(`answered ${a}`), { status: a });
      return a(ids);
    },
  });
  return { queue, posts, gate, release: () => release() };
}

describe('results on their way to a controller', () => {
  it('posts at once when idle, and coalesces what arrives while a post is in flight', async () => {
    const s = setup([]);
    s.gate.closed = true;
    s.queue.push(mk('a'));
    for (const id of ['b', 'c', 'd']) s.queue.push(mk(id));
    s.gate.closed = false;
    s.release();
    await s.queue.drain(1000);
    expect(s.posts).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('retries a post that got no answer, in order, together with what arrived meanwhile', async () => {
    const s = setup(['lost', 503]);
    s.queue.push(mk('a'));
    s.queue.push(mk('b'));
    await new Promise((r) => setTimeout(r, 50));
    expect(s.posts).toEqual([['a'], ['a', 'b'], ['a', 'b']]);
  });

  it('does not retry what the controller refused, and gives a result up after its attempts', async () => {
    const s = setup([(ids) => ids.map((id) => (id === 'bad' ? { id, ok: false, code: 'COX_NOT_FOUND', message: 'no' } : { id, ok: true })), 400, 'lost', 'lost', 'lost']);
    s.queue.push(mk('bad'));
    await new Promise((r) => setTimeout(r, 10));
    s.queue.push(mk('refused'));
    await new Promise((r) => setTimeout(r, 10));
    s.queue.push(mk('lost'));
    await new Promise((r) => setTimeout(r, 50));
    expect(s.posts).toEqual([['bad'], ['refused'], ['lost'], ['lost'], ['lost']]);
  });

  it('hands what it gave up on to the other controllers once, and what they give up on is lost', async () => {
    const handed: string[][] = [];
    const mkQueue = (post: () => Promise<BatchOutcome[]>, handOver?: (r: Result[]) => void) =>
      new ResultQueue({ controller: 'x', logger: pino({ level: 'silent' }), backoff: { baseMs: 1, maxMs: 2, jitter: 0 }, attempts: 2, post, ...(handOver ? { handOver } : {}) });
    const dead = () => Promise.reject(Errors.UNREACHABLE('ECONNREFUSED'));
    const other = mkQueue(dead, (r) => handed.push(r.map((x) => `again:${x.id}`)));
    const origin = mkQueue(dead, (results) => {
      handed.push(results.map((r) => r.id));
      for (const r of results) other.push(r, true);
    });
    origin.push(mk('a'));
    await new Promise((r) => setTimeout(r, 50));
    // Handed over once; the other queue, failing too, does not hand it on again.
    expect(handed).toEqual([['a']]);
  });
});
