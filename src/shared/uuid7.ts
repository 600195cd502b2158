/**
 * UUID version 7 (RFC 9562): a millisecond timestamp, then random bits. Job ids made this way
 * sort by creation, so each new id lands at the end of the store's id index instead of on a
 * random page of it: fewer pages written per commit.
 */
import { randomBytes } from 'node:crypto';

export function uuid7(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
