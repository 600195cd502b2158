import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProcessJournal } from '../../../src/agent/processes/journal.js';
import { tempDir } from '../../helpers/agent-harness.js';

const run = (id: string) => ({ id, name: `n-${id}`, origin: 'main', pid: 4242, start: '123' });
const exit = (id: string, code: number) => ({ id, name: `n-${id}`, origin: 'main', exit_code: code, reason: '', ended: 1 });

describe('process journal', () => {
  it('creates no file until it has something to keep', () => {
    const file = join(tempDir(), 'state', 'processes.journal');
    new ProcessJournal(file).close();
    expect(existsSync(file)).toBe(false);
  });

  it('keeps running processes and unacknowledged ends across a reopen, and forgets acknowledged ones', () => {
    const file = join(tempDir(), 'processes.journal');
    const a = new ProcessJournal(file);
    a.started(run('1'));
    a.started(run('2'));
    a.started(run('3'));
    a.exited(exit('1', 0));
    a.exited(exit('2', -9));
    a.acked(['1', 'unknown']);
    // No close: an agent killed here leaves the appends, which is what a restart reads.
    const b = new ProcessJournal(file);
    expect(b.running()).toEqual([run('3')]);
    expect(b.unreported()).toEqual([exit('2', -9)]);
    expect(b.unreported('other')).toEqual([]);
    expect(b.known().sort()).toEqual(['2', '3']);
    b.close();
    a.close();
  });

  it('skips a torn last line and compacts on open', () => {
    const file = join(tempDir(), 'processes.journal');
    const a = new ProcessJournal(file);
    for (let i = 0; i < 50; i++) {
      a.started(run(String(i)));
      a.exited(exit(String(i), i));
    }
    a.acked(Array.from({ length: 49 }, (_, i) => String(i)));
    a.close();
    appendFileSync(file, '{"exit":{"id":"x","na');
    const b = new ProcessJournal(file);
    expect(b.skipped).toBe(1);
    expect(b.unreported().map((e) => e.id)).toEqual(['49']);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
    b.close();
  });
});
