import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { History } from '../../../src/agent/jobs/history.js';
import { takeOffers } from '../../../src/agent/jobs/intake.js';
import type { JobManager } from '../../../src/agent/jobs/job-manager.js';
import type { ControllerClient } from '../../../src/agent/transport/controller-client.js';
import type { Ack } from '../../../src/protocol/job.js';
import { Errors, isCoxError } from '../../../src/shared/errors.js';
import { tempDir } from '../../helpers/agent-harness.js';

/** A controller whose acknowledgement answers are scripted per post: `lost` drops the connection. */
function setup(answers: ('lost' | boolean[])[]) {
  const submitted: string[] = [];
  const refused: string[] = [];
  const posts: Ack[][] = [];
  const history = new History(join(tempDir(), '.history'));
  const client = {
    key: 'main',
    ack: async (acks: Ack[]) => {
      posts.push(acks);
      const a = answers.shift();
      if (a === 'lost') throw Errors.UNREACHABLE('socket hang up');
      return a!;
    },
  } as unknown as ControllerClient;
  const manager = {
    submit: (job: { id: string }) => submitted.push(job.id),
    refuse: (job: { id: string }, _origin: string, _reason: string, state = 'ERROR') => refused.push(state === 'ERROR' ? job.id : `${job.id} ${state}`),
  } as unknown as JobManager;
  const deps = { history, manager, logger: pino({ level: 'silent' }) };
  const take = (...ids: string[]) => takeOffers(ids.map((id) => ({ id, cmd: 'ping', lease: `l-${id}` })), client, deps);
  return { take, submitted, refused, posts, history, client, deps };
}

describe('taking the offers of a poll', () => {
  it('runs an offer once the acknowledgement gets through, after a lost attempt', async () => {
    const s = setup(['lost', [true]]);
    await s.take('j1');
    expect([s.submitted, s.history.hasSeen('j1')]).toEqual([['j1'], true]);
  });

  it('acknowledges every offer of a poll in one post, and runs only those taken', async () => {
    const s = setup([[true, false, true]]);
    await s.take('a', 'b', 'c');
    expect(s.posts).toEqual([[{ id: 'a', lease: 'l-a' }, { id: 'b', lease: 'l-b' }, { id: 'c', lease: 'l-c' }]]);
    expect([s.submitted, s.history.hasSeen('b')]).toEqual([['a', 'c'], false]);
  });

  it('acknowledges a job seen before again without running it, and refuses an invalid offer after taking it', async () => {
    const s = setup([[true], [true, true, true]]);
    await s.take('seen');
    await takeOffers([{ id: 'seen', cmd: 'ping', lease: 'l2' }, { id: 'bad', lease: 'lb', args: 'nope' }, { lease: 'no id' }, { id: 'new', cmd: 'ping', lease: 'ln' }], s.client, s.deps);
    expect(s.posts[1]!.map((a) => a.id)).toEqual(['seen', 'bad', 'new']);
    expect([s.submitted, s.refused]).toEqual([['seen', 'new'], ['bad']]);
  });

  it('answers DUPLICATE_ID for an id it ran and reported before, instead of holding it silently', async () => {
    const s = setup([[true], [true]]);
    await s.take('reused');
    s.history.markSettled('reused');
    await s.take('reused');
    expect(s.posts.map((p) => p.map((a) => a.id))).toEqual([['reused'], ['reused']]);
    expect([s.submitted, s.refused]).toEqual([['reused'], ['reused DUPLICATE_ID']]);
  });

  it('fails like a lost connection when a refusal follows a lost attempt, after running the items taken', async () => {
    const s = setup(['lost', [true, false]]);
    await expect(s.take('ok', 'doubt')).rejects.toSatisfy((e) => isCoxError(e, Errors.UNREACHABLE) && e.message.includes('doubt'));
    expect([s.submitted, s.history.hasSeen('doubt')]).toEqual([['ok'], false]);
  });
});
