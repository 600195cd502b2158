import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/agent/backoff.js';
import { MessageIds, openMessageIds } from '../../../src/agent/logging/message-ids.js';

describe('MessageIds', () => {
  it('reserves a block before handing out its first id', () => {
    const reserved: number[] = [];
    const ids = new MessageIds(7, (end) => reserved.push(end), 3);
    expect([ids.next(), ids.next(), ids.next()]).toEqual([7, 8, 9]);
    expect(reserved).toEqual([10]);
    expect(ids.next()).toBe(10);
    expect(reserved).toEqual([10, 13]);
  });

  it('wraps at 2^32', () => {
    const reserved: number[] = [];
    const ids = new MessageIds(2 ** 32 - 2, (end) => reserved.push(end), 4);
    expect([ids.next(), ids.next(), ids.next()]).toEqual([2 ** 32 - 2, 2 ** 32 - 1, 0]);
    expect(reserved).toEqual([2]);
  });

  it('continues after a restart past every id it handed out, writing once per block', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cox-mid-'));
    const file = join(dir, '.mid');
    const first = openMessageIds(file, 100);
    expect(readdirSync(dir)).toEqual([]);
    const used = Array.from({ length: 150 }, () => first.next());
    expect(used.at(-1)).toBe(149);
    expect(readFileSync(file, 'utf8')).toBe('200\n');
    const second = openMessageIds(file, 100);
    expect(second.next()).toBe(200);
    expect(readdirSync(dir)).toEqual(['.mid']);
  });

  it('refuses a counter file it cannot read rather than repeat ids', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cox-mid-')), '.mid');
    writeFileSync(file, 'garbage');
    expect(() => openMessageIds(file)).toThrow(`${file}: not a message id counter: "garbage"`);
  });
});

describe('backoffDelay', () => {
  it('doubles up to the cap, less up to the jitter share', () => {
    const policy = { baseMs: 100, maxMs: 1000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(policy, n, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(policy, 3, () => 1)).toBe(200);
  });
});
