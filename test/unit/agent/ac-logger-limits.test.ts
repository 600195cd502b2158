/** The AC logger against a controller's limits: batches split by size, refused batches dropped. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AcLoggerConfig } from '../../../src/agent/config/types.js';
import { AcLogger, MAX_BATCH_BYTES } from '../../../src/agent/logging/ac-logger.js';
import type { LogMessage } from '../../../src/protocol/job.js';
import { Errors } from '../../../src/shared/errors.js';
import { AnsweredError } from '../../../src/stream/frames.js';

const LIMIT = 16 * 1024 * 1024;
const cfg: AcLoggerConfig = { name: 'ac', type: 'AC', levels: 'all', flushMs: 3_600_000, batchSize: 1000, controllers: ['main'] };
const MB = 1024 * 1024;
const line = (mid: number, size = MB): LogMessage => ({ id: 'job', mid, level: 2, message: 'x'.repeat(size), epoch: mid });

/** A logger whose pino lines are collected. */
function collecting() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { logger, lines };
}

/** Like the controller over HTTP: 413 for a body past 16 MiB. */
const http413 = (sent: LogMessage[][]) => async (_c: string, batch: LogMessage[]) => {
  const size = Buffer.byteLength(JSON.stringify(batch));
  if (size > LIMIT) throw Object.assign(Errors.HTTP_ERROR(`main: POST /1/10/log answered 413: too large`), { status: 413 });
  sent.push(batch);
};

describe('AcLogger limits', () => {
  it('splits batches by size, so 20 lines of 1 MB reach the controller', async () => {
    const sent: LogMessage[][] = [];
    const { logger, lines } = collecting();
    const ac = new AcLogger(cfg, http413(sent), logger);
    for (let mid = 0; mid < 20; mid++) ac.write(line(mid));
    await ac.close();
    expect(sent.flat().map((m) => m.mid)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const batch of sent) expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(lines.filter((l) => l.level === 40)).toEqual([]);
  });

  it('sends a batch as soon as its size is reached, not only at batch_size or flush_int', async () => {
    const sent: LogMessage[][] = [];
    const ac = new AcLogger(cfg, http413(sent), pino({ level: 'silent' }));
    for (let mid = 0; mid < 5; mid++) ac.write(line(mid));
    await new Promise((r) => setTimeout(r, 20));
    expect(sent.length).toBeGreaterThan(0);
    await ac.close();
  });

  it('drops a batch the controller refuses (4xx) with one warning, and sends what follows', async () => {
    const sent: number[] = [];
    const { logger, lines } = collecting();
    let calls = 0;
    const ac = new AcLogger({ ...cfg, batchSize: 2 }, async (_c, batch) => {
      calls++;
      if (batch.some((m) => m.mid === 1)) throw new AnsweredError('COX_BAD_REQUEST', 'stream frame: too long', 400);
      sent.push(...batch.map((m) => m.mid));
    }, logger);
    for (let mid = 0; mid < 2; mid++) ac.write(line(mid, 10));
    await ac.flush();
    await ac.flush();
    for (let mid = 2; mid < 5; mid++) ac.write(line(mid, 10));
    await ac.close();
    expect(sent).toEqual([2, 3, 4]);
    expect(calls).toBe(3);
    expect(lines.filter((l) => l.level === 40).map((l) => [l.msg, l.status])).toEqual([['the controller refused the logs: batch dropped', 400]]);
  });

  it('retries a 5xx a few flushes, then drops the batch; retries an unreachable controller for as long as it takes', async () => {
    let answer: Error | null = Object.assign(Errors.HTTP_ERROR('main: answered 500'), { status: 500 });
    const sent: number[] = [];
    let calls = 0;
    const ac = new AcLogger(cfg, async (_c, batch) => {
      calls++;
      if (answer) throw answer;
      sent.push(...batch.map((m) => m.mid));
    }, pino({ level: 'silent' }));
    ac.write(line(0, 10));
    for (let i = 0; i < 5; i++) await ac.flush();
    expect([calls, sent]).toEqual([3, []]);
    answer = Errors.UNREACHABLE('main: ECONNREFUSED');
    ac.write(line(1, 10));
    for (let i = 0; i < 10; i++) await ac.flush();
    answer = null;
    await ac.close();
    expect(sent).toEqual([1]);
  });
});
