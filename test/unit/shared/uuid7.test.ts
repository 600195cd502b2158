import { describe, expect, it } from 'vitest';
import { uuid7 } from '../../../src/shared/uuid7.js';

describe('uuid7', () => {
  it('is a version 7, RFC 9562 variant UUID carrying its millisecond, unique, and sorting by time', () => {
    const id = uuid7(0x0191_2345_6789);
    expect(id).toMatch(/^01912345-6789-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ids = Array.from({ length: 1000 }, (_, i) => uuid7(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });
});
