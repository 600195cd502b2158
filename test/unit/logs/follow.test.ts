import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LogFollower } from '../../../src/hostmanager/logs/follow.js';
import { LogFiles } from '../../../src/hostmanager/logs/log-files.js';
import { rotatedName } from '../../../src/hostmanager/logs/rotate.js';
import { waitUntil } from '../../helpers/wait.js';

const followers: LogFollower[] = [];
afterEach(() => followers.splice(0).forEach((f) => f.stop()));

function follow(file: string, pollMs = 10, logs = new LogFiles({ maxBytes: 1, keep: 2 })) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const follower = new LogFollower({ logs, file: () => file, out, pollMs });
  followers.push(follower);
  return { follower, logs, text: () => text, saw: (s: string) => waitUntil(() => text.endsWith(s), 2_000, JSON.stringify(s)) };
}

const logFile = () => join(mkdtempSync(join(tmpdir(), 'follow-')), 'a.log');

describe('LogFiles.check', () => {
  it('rotates only the files that reached the size limit, and skips missing ones', async () => {
    const small = logFile();
    const big = logFile();
    writeFileSync(small, 'x\n');
    writeFileSync(big, 'x'.repeat(100));
    const logs = new LogFiles({ maxBytes: 100, keep: 1 });
    expect(await logs.check([small, big, '/nonexistent/a.log'])).toEqual([big]);
    expect(logs.rotationOf(big)).toEqual({ count: 1, copied: 100 });
    expect(readFileSync(small, 'utf8')).toBe('x\n');
  });
});

describe('LogFollower', () => {
  it('sends the last lines, then each byte appended, once', async () => {
    const file = logFile();
    writeFileSync(file, 'l1\nl2\nl3\npart');
    const f = follow(file);
    await f.follower.start(2);
    expect(f.text()).toBe('l2\nl3\n');
    await f.saw('part');
    appendFileSync(file, 'ial\nl4\n');
    await f.saw('l4\n');
    expect(f.text()).toBe('l2\nl3\npartial\nl4\n');
  });

  it('loses and repeats nothing across our own rotation, even when it happens between two polls', async () => {
    const file = logFile();
    writeFileSync(file, 'l1\n');
    const f = follow(file, 300);
    await f.follower.start(5);
    // Written and rotated away before the follower's first poll: it must read l2 from .1.
    appendFileSync(file, 'l2\n');
    expect(await f.logs.check([file])).toEqual([file]);
    appendFileSync(file, 'l3\n');
    await f.saw('l3\n');
    expect(f.text()).toBe('l1\nl2\nl3\n');
    expect(readFileSync(rotatedName(file, 1), 'utf8')).toBe('l1\nl2\n');
  });

  it('starts over when the file is truncated by someone else or replaced', async () => {
    const file = logFile();
    writeFileSync(file, 'a long first line\n');
    const f = follow(file);
    await f.follower.start(1);
    truncateSync(file, 0);
    appendFileSync(file, 'short\n');
    await f.saw('short\n');
    rmSync(file);
    writeFileSync(file, 'a new file, longer than the old one\n');
    await f.saw('longer than the old one\n');
    expect(f.text()).toBe('a long first line\nshort\na new file, longer than the old one\n');
  });

  it('waits for a file that does not exist yet, and stops when told', async () => {
    const file = logFile();
    const f = follow(file);
    await f.follower.start(10);
    writeFileSync(file, 'born\n');
    await f.saw('born\n');
    f.follower.stop();
    appendFileSync(file, 'unseen\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(f.text()).toBe('born\n');
  });
});
