import { describe, expect, it } from 'vitest';
import { OpCode, ResponseCode, responseCodeName } from '../../../src/ops/codes.js';

describe('OCS codes', () => {
  it('keeps the numbers OCS clients compare against', () => {
    expect(OpCode).toEqual({
      NONE: 1, STARTING: 2, RUNNING: 3, STOPPING: 4, SUCCEEDED: 5, FAILED: 6, EXPIRED: 7, DEGRADED: 8,
    });
    expect(ResponseCode).toEqual({ OK: 0, ERROR: -1, TIMEOUT: 1 });
  });

  it('names response codes', () => {
    expect([0, -1, 1].map((c) => responseCodeName(c as ResponseCode))).toEqual(['OK', 'ERROR', 'TIMEOUT']);
  });
});
