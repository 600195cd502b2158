import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AcLoggerConfig } from '../../../src/agent/config/types.js';
import { AcLogger } from '../../../src/agent/logging/ac-logger.js';
import type { LogMessage } from '../../../src/protocol/job.js';

const cfg: AcLoggerConfig = { name: 'ac', type: 'AC', levels: 'all', flushMs: 3_600_000, batchSize: 2, controllers: ['up', 'flaky'] };
const msg = (mid: number): LogMessage => ({ id: 'job', mid, level: 2, message: `m${mid}`, epoch: mid });

describe('AcLogger', () => {
  it('sends full batches at once and the rest on flush, per controller', async () => {
    const sent: Record<string, number[][]> = { up: [], flaky: [] };
    let failing = true;
    const ac = new AcLogger(cfg, async (c, batch) => {
      if (c === 'flaky' && failing) throw new Error('down');
      sent[c]!.push(batch.map((m) => m.mid));
    }, pino({ level: 'silent' }));
    for (const mid of [1, 2, 3]) ac.write(msg(mid));
    await ac.flush();
    expect(sent).toEqual({ up: [[1, 2], [3]], flaky: [] });
    failing = false;
    await ac.close();
    expect(sent).toEqual({ up: [[1, 2], [3]], flaky: [[1, 2], [3]] });
  });

  it('drops the oldest messages of a controller that stays down, past ten batches', async () => {
    const sent: number[] = [];
    let failing = true;
    const ac = new AcLogger({ ...cfg, controllers: ['down'] }, async (_c, batch) => {
      if (failing) throw new Error('down');
      sent.push(...batch.map((m) => m.mid));
    }, pino({ level: 'silent' }));
    for (let mid = 0; mid < 25; mid++) ac.write(msg(mid));
    await ac.flush();
    failing = false;
    await ac.close();
    expect(sent).toEqual(Array.from({ length: 20 }, (_, i) => i + 5));
  });
});
