/** A real agent whose message-id file or log_dir cannot be written, or vanishes, while jobs print. */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogMessage } from '../../src/protocol/job.js';
import { startFakeController, type FakeController } from '../helpers/agent-fake-controller.js';
import { agentToml, runAgent, tempDir } from '../helpers/agent-harness.js';

let fake: FakeController;
beforeEach(async () => {
  fake = await startFakeController();
});
afterEach(async () => {
  expect(fake.refused).toEqual([]);
  await fake.close();
});

const DB = '[logging.db]\ntype = "DB"\nlog_dir = "./logs"\n';
/** A job printing `n` lines on stdout. */
const printing = (id: string, n: number) => ({ id, cmd: 'execute', args: { name: process.execPath, args: ['-e', `for (let i = 0; i < ${n}; i++) console.log('line ' + i)`] } });

async function messages(id: string, args: Record<string, unknown>): Promise<LogMessage[]> {
  fake.offer({ id, cmd: 'get_msgs', args });
  const r = await fake.final(id);
  expect(r.state).toBe('SUCCESS');
  return JSON.parse(r.data) as LogMessage[];
}

describe('agent log files that fail', () => {
  it('refuses to start with a message-id file it cannot write, naming the file', () => {
    const dir = tempDir();
    // Unwritable even for root: the temporary file of the atomic write is a directory.
    mkdirSync(join(dir, `.mid.${process.pid}.tmp`));
    expect(() => runAgent(dir, agentToml(fake.url, { main: 'message_id_file = "./.mid"' }))).toThrow(`${join(dir, '.mid')}: cannot write the message id counter`);
  });

  it('runs jobs on when the message-id file can no longer be written, and when its directory is deleted', async () => {
    const dir = tempDir();
    const run = runAgent(dir, agentToml(fake.url, { main: 'message_id_file = "./ids/.mid"', rest: DB }));
    rmSync(join(dir, 'ids'), { recursive: true });
    fake.offer(printing('gone', 1500));
    expect((await fake.final('gone')).state).toBe('SUCCESS');
    expect(readFileSync(join(dir, 'ids', '.mid'), 'utf8')).toBe('2000\n');

    rmSync(join(dir, 'ids'), { recursive: true });
    writeFileSync(join(dir, 'ids'), 'a file where the directory was');
    fake.offer(printing('blocked', 1500));
    expect((await fake.final('blocked')).state).toBe('SUCCESS');
    const mids = (await messages('q', { id: 'blocked', limit: 2000 })).map((m) => m.mid);
    expect(mids).toEqual(Array.from({ length: 1500 }, (_, i) => 1500 + i));
    expect(run.lines.filter((l) => l.msg === 'cannot write the message id counter; numbering goes on in memory, ids may repeat after a restart')).toHaveLength(1);
  });

  it('answers get_msgs and keeps logging after log_dir is deleted', async () => {
    const dir = tempDir();
    runAgent(dir, agentToml(fake.url, { rest: `${DB}max_file_age = 1\n` }));
    fake.offer(printing('before', 3));
    expect((await fake.final('before')).state).toBe('SUCCESS');
    rmSync(join(dir, 'logs'), { recursive: true });
    fake.offer(printing('after', 3));
    expect((await fake.final('after')).state).toBe('SUCCESS');
    // Past max_file_age: the next write rotates, from the logger's timer.
    await new Promise((r) => setTimeout(r, 1100));
    fake.offer(printing('rotated', 3));
    expect((await fake.final('rotated')).state).toBe('SUCCESS');
    expect((await messages('q1', { id: 'after' })).map((m) => m.message)).toEqual(['line 0', 'line 1', 'line 2']);
    expect((await messages('q2', { id: 'rotated' })).map((m) => m.message)).toEqual(['line 0', 'line 1', 'line 2']);
    expect(existsSync(join(dir, 'logs'))).toBe(true);
  });
});
