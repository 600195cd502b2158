import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Errors } from '../../src/shared/errors.js';

describe('docs/errors.md', () => {
  it('lists every error code with its HTTP status, and nothing else', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(COX_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m): [string, number] => [m[1]!, Number(m[2])]);
    const defined = Object.values(Errors).map((make) => {
      const sample = (make as (...a: unknown[]) => { code: string; statusCode: number })('x');
      return [sample.code, sample.statusCode] as [string, number];
    });
    expect(new Map(documented)).toEqual(new Map(defined));
  });
});
