import { describe, expect, it } from 'vitest';
import { JobOutput, Tail } from '../../../src/agent/output/job-output.js';
import { allows, levelsFromArray, parseLevelList } from '../../../src/agent/output/level-list.js';
import { LevelParser } from '../../../src/agent/output/level-parser.js';

describe('parseLevelList', () => {
  it('reads every form JumpScale writes', () => {
    expect(parseLevelList('')).toBeNull();
    expect(parseLevelList('  ')).toBeNull();
    expect(parseLevelList('*')).toBe('all');
    expect(parseLevelList('1,2,3')).toEqual(new Set([1, 2, 3]));
    expect(parseLevelList('1-5,20')).toEqual(new Set([1, 2, 3, 4, 5, 20]));
    expect(parseLevelList(' 7 , 9 - 10 ')).toEqual(new Set([7, 9, 10]));
  });

  it('names the field and the part it cannot read', () => {
    expect(() => parseLevelList('1,x', 'args.loglevels_db')).toThrow('args.loglevels_db: "x" is not a level or a range of levels');
    expect(() => parseLevelList('5-2')).toThrow('levels: "5-2" is outside levels 1-30');
    expect(() => parseLevelList('0,31')).toThrow('levels: "0" is outside levels 1-30');
    expect(() => parseLevelList('1,,2')).toThrow('levels: "" is not a level');
  });

  it('treats an empty config array as all levels', () => {
    expect(levelsFromArray([])).toBe('all');
    expect(allows(levelsFromArray([2, 4]), 4)).toBe(true);
    expect(allows(levelsFromArray([2, 4]), 3)).toBe(false);
    expect(allows('all', 30)).toBe(true);
  });
});

describe('LevelParser', () => {
  it('reads single-line messages and plain lines at the stream level', () => {
    const p = new LevelParser(1);
    expect(p.push('hello\n3::public\n20::{"a":1}\n')).toEqual([
      { level: 1, text: 'hello' },
      { level: 3, text: 'public' },
      { level: 20, text: '{"a":1}' },
    ]);
    expect(new LevelParser(2).push('oops\r\n\n')).toEqual([{ level: 2, text: 'oops' }]);
  });

  it('keeps text with colons, and treats levels outside 1-30 as plain text', () => {
    const p = new LevelParser(1);
    expect(p.push('5::a::b\n0::zero\n99::x\n::y\n')).toEqual([
      { level: 5, text: 'a::b' },
      { level: 1, text: '0::zero' },
      { level: 1, text: '99::x' },
      { level: 1, text: '::y' },
    ]);
  });

  it('reads multi-line messages across chunks', () => {
    const p = new LevelParser(1);
    expect(p.push('20:::\n{"a":\n')).toEqual([]);
    expect(p.push(' 1}\n:')).toEqual([]);
    expect(p.push('::\nafter\n')).toEqual([
      { level: 20, text: '{"a":\n 1}' },
      { level: 1, text: 'after' },
    ]);
  });

  it('keeps empty lines inside a multi-line message and a `N::` line verbatim', () => {
    const p = new LevelParser(1);
    expect(p.push('9:::\nline 1\n\n3::not a prefix here\n:::\n')).toEqual([{ level: 9, text: 'line 1\n\n3::not a prefix here' }]);
  });

  it('ends an unterminated line and an open multi-line message at end of stream', () => {
    const p = new LevelParser(1);
    expect(p.push('4::no newline')).toEqual([]);
    expect(p.end()).toEqual([{ level: 4, text: 'no newline' }]);
    const q = new LevelParser(2);
    q.push('21:::\nkey: value\n');
    expect(q.end()).toEqual([{ level: 21, text: 'key: value' }]);
  });

  it('bounds a line without newline and a multi-line message', () => {
    const p = new LevelParser(1, 10);
    expect(p.push('x'.repeat(25))).toEqual([
      { level: 1, text: 'x'.repeat(10) },
      { level: 1, text: 'x'.repeat(10) },
    ]);
    expect(p.end()).toEqual([{ level: 1, text: 'xxxxx' }]);
    const q = new LevelParser(1, 10);
    expect(q.push('5:::\n123456\n789012\n345\n:::\n')).toEqual([{ level: 5, text: '123456\n789012'.slice(0, 10) }]);
  });
});

describe('JobOutput', () => {
  it('takes the last result-level message as data, level 9 as critical, and raw tails', () => {
    const out = new JobOutput(8);
    out.raw(0, 'first line\n');
    out.raw(1, 'err\n');
    out.message({ level: 20, text: '{"x":1}' });
    out.message({ level: 9, text: 'disk full' });
    out.message({ level: 21, text: 'x: 2' });
    out.message({ level: 9, text: 'fan failed' });
    out.message({ level: 1, text: 'ignored' });
    expect(out.facts()).toEqual({ data: 'x: 2', level: 21, critical: 'disk full\nfan failed', streams: ['st line\n', 'err\n'] });
  });

  it('falls back to the stdout tail at level 0', () => {
    const out = new JobOutput();
    out.raw(0, 'plain');
    expect(out.facts()).toMatchObject({ data: 'plain', level: 0, critical: '' });
  });

  it('bounds a tail however the stream is chunked', () => {
    const t = new Tail(5);
    for (const c of 'abcdefghijklmnop') t.push(c);
    expect(t.toString()).toBe('lmnop');
  });
});
