import { describe, expect, it } from 'vitest';
import type { JobView } from '../../../src/client/controller-client.js';
import { formatJob } from '../../../src/cli/jobs.js';
import { job as jobSchema, type Result } from '../../../src/protocol/job.js';

const view = (...results: Partial<Result>[]): JobView => ({
  job: jobSchema.parse({ id: 'j1', cmd: 'execute', gid: 1, nid: 10 }),
  state: 'SUCCESS',
  created: 0,
  finished: 1,
  results: results.map((r, i) => ({ id: 'j1', gid: 1, nid: 10 + i, cmd: 'execute', data: '', level: 20, state: 'SUCCESS', starttime: 0, time: 3, streams: ['', ''], critical: '', tags: '', ...r })),
});

describe('cox jobs / cox exec --wait output', () => {
  it('shows a one-line result on the node line', () => {
    expect(formatJob(view({ data: '{"ok": true}' }))).toBe('j1  execute  SUCCESS  node 1_10\n  1_10  SUCCESS  0.003 s  {"ok": true}\n');
  });

  it('shows data that is only the stdout tail once, and several lines as an indented block', () => {
    expect(formatJob(view({ data: 'a\nb\nc', streams: ['a\nb\nc', ''] }, { data: 'x\ny', streams: ['', 'oops\n'] }))).toBe(
      [
        'j1  execute  SUCCESS  node 1_10',
        '  1_10  SUCCESS  0.003 s',
        '    stdout: a',
        '      b',
        '      c',
        '  1_11  SUCCESS  0.003 s',
        '    data: x',
        '      y',
        '    stderr: oops',
        '',
      ].join('\n'),
    );
  });

  it('spells out control characters, so a job cannot drive the terminal', () => {
    expect(formatJob(view({ streams: ['\x1b[2J\x1b]0;owned\x07hi\r\n', ''] }))).toContain('    stdout: \\x1b[2J\\x1b]0;owned\\x07hi\n');
  });
});
