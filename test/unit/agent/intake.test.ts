import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { History } from '../../../src/agent/jobs/history.js';
import { takeOffer } from '../../../src/agent/jobs/intake.js';
import type { JobManager } from '../../../src/agent/jobs/job-manager.js';
import type { ControllerClient } from '../../../src/agent/transport/controller-client.js';
import { Errors, isCoxError } from '../../../src/shared/errors.js';
import { tempDir } from '../../helpers/agent-harness.js';

/** A controller whose acknowledgement answers are scripted: `lost` drops the connection. */
function setup(answers: ('lost' | boolean)[]) {
  const submitted: string[] = [];
  const history = new History(join(tempDir(), '.history'));
  const client = {
    key: 'main',
    ack: async () => {
      const a = answers.shift();
      if (a === 'lost') throw Errors.UNREACHABLE('socket hang up');
      return a!;
    },
  } as unknown as ControllerClient;
  const manager = { submit: (job: { id: string }) => submitted.push(job.id) } as unknown as JobManager;
  const take = () => takeOffer({ id: 'j1', cmd: 'ping', lease: 'l1' }, client, { history, manager, logger: pino({ level: 'silent' }) });
  return { take, submitted, history };
}

describe('taking an offer', () => {
  it('runs it once the acknowledgement gets through, after a lost attempt', async () => {
    const s = setup(['lost', true]);
    await s.take();
    expect([s.submitted, s.history.hasSeen('j1')]).toEqual([['j1'], true]);
  });

  it('does not run a refused offer', async () => {
    const s = setup([false]);
    await s.take();
    expect(s.submitted).toEqual([]);
  });

  it('fails like a lost connection when a refusal follows a lost attempt: the first may have been stored', async () => {
    const s = setup(['lost', false]);
    await expect(s.take()).rejects.toSatisfy((e) => isCoxError(e, Errors.UNREACHABLE));
    expect([s.submitted, s.history.hasSeen('j1')]).toEqual([[], false]);
  });
});
