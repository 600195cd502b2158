import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { History } from '../../../src/agent/jobs/history.js';
import { job } from '../../../src/protocol/job.js';
import { tempDir } from '../../helpers/agent-harness.js';

const longJob = (id: string) => job.parse({ id, cmd: 'execute', args: { name: 'sleep', args: ['1000'], max_time: -1 } });
const taken = (id: string, origin: string | null = 'main') => ({ id, cmd: 'execute', origin });
/** Taken and reported: what a finished job leaves behind. */
const ranAndReported = (h: History, id: string) => {
  h.markTaken(taken(id));
  h.markSettled(id);
};

describe('History', () => {
  it('remembers seen ids and long-running jobs across reopen, and forgets finished ones', () => {
    const file = join(tempDir(), 'state', '.history');
    const h = new History(file);
    ranAndReported(h, 'a');
    h.markTaken(taken('b'));
    h.addLongRunning(longJob('b'), 'main');
    h.addLongRunning(longJob('c'), null);
    h.remove('c');
    h.close();
    const again = new History(file);
    expect([again.hasSeen('a'), again.hasSeen('b'), again.hasSeen('z')]).toEqual([true, true, false]);
    expect([again.hasSettled('a'), again.hasSettled('b')]).toEqual([true, false]);
    expect(again.longRunning()).toEqual([{ job: longJob('b'), origin: 'main' }]);
    // Rerun under its id, a long-running job is not lost with the agent that took it.
    expect(again.lost()).toEqual([]);
    again.close();
  });

  it('compacts the journal at open, and skips a torn last line', () => {
    const file = join(tempDir(), '.history');
    const h = new History(file);
    h.addLongRunning(longJob('x'), 'main');
    h.remove('x');
    ranAndReported(h, 'x');
    h.close();
    appendFileSync(file, '{"seen":"y"');
    const again = new History(file);
    expect(again.skipped).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('{"seen":"x"}\n');
    again.close();
  });

  it('bounds the seen ids, dropping the oldest, and the journal size', () => {
    const file = join(tempDir(), '.history');
    const h = new History(file, 3);
    for (let i = 0; i < 2000; i++) ranAndReported(h, `j${i}`);
    expect([h.hasSeen('j1996'), h.hasSeen('j1997'), h.hasSeen('j1999')]).toEqual([false, true, true]);
    expect(readFileSync(file, 'utf8').split('\n').length).toBeLessThan(1100);
    h.close();
  });

  it('names the jobs an agent took and never reported, once reopened, until their end is settled', () => {
    const file = join(tempDir(), '.history');
    const h = new History(file);
    ranAndReported(h, 'done');
    h.markTaken(taken('running', 'main'));
    h.markTaken(taken('pending', null));
    h.close();
    const after = new History(file);
    expect(after.lost()).toEqual([taken('running', 'main'), taken('pending', null)]);
    expect([after.hasSeen('running'), after.hasSettled('running')]).toEqual([true, false]);
    after.markSettled('running');
    after.close();
    expect(new History(file).lost()).toEqual([taken('pending', null)]);
  });

  it('writes the journal afresh when it was deleted under the running agent, so a restart still knows what it took', () => {
    const dir = join(tempDir(), 'state');
    const file = join(dir, '.history');
    const h = new History(file);
    h.markTaken(taken('before'));
    rmSync(dir, { recursive: true });
    h.markTaken(taken('after'));
    h.close();
    expect(new History(file).lost()).toEqual([taken('before'), taken('after')]);
  });

  it('reads the ids of a journal from before jobs were settled as run and reported', () => {
    const file = join(tempDir(), '.history');
    writeFileSync(file, '{"seen":"old"}\n');
    const h = new History(file);
    expect([h.hasSettled('old'), h.lost()]).toEqual([true, []]);
    h.close();
  });
});
