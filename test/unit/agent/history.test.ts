import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { History } from '../../../src/agent/jobs/history.js';
import { job } from '../../../src/protocol/job.js';
import { tempDir } from '../../helpers/agent-harness.js';

const longJob = (id: string) => job.parse({ id, cmd: 'execute', args: { name: 'sleep', args: ['1000'], max_time: -1 } });

describe('History', () => {
  it('remembers seen ids and long-running jobs across reopen, and forgets finished ones', () => {
    const file = join(tempDir(), 'state', '.history');
    const h = new History(file);
    h.markSeen('a');
    h.markSeen('b');
    h.addLongRunning(longJob('b'), 'main');
    h.addLongRunning(longJob('c'), null);
    h.remove('c');
    h.close();
    const again = new History(file);
    expect([again.hasSeen('a'), again.hasSeen('b'), again.hasSeen('z')]).toEqual([true, true, false]);
    expect(again.longRunning()).toEqual([{ job: longJob('b'), origin: 'main' }]);
    again.close();
  });

  it('compacts the journal at open, and skips a torn last line', () => {
    const file = join(tempDir(), '.history');
    const h = new History(file);
    h.addLongRunning(longJob('x'), 'main');
    h.remove('x');
    h.markSeen('x');
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
    for (let i = 0; i < 2000; i++) h.markSeen(`j${i}`);
    expect([h.hasSeen('j1996'), h.hasSeen('j1997'), h.hasSeen('j1999')]).toEqual([false, true, true]);
    expect(readFileSync(file, 'utf8').split('\n').length).toBeLessThan(1100);
    h.close();
  });
});
