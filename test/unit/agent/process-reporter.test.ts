import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessJournal } from '../../../src/agent/processes/journal.js';
import { exitReporters, type ExitReporter } from '../../../src/agent/processes/reporter.js';
import type { ProcessExit } from '../../../src/protocol/process.js';
import { Errors } from '../../../src/shared/errors.js';
import { tempDir } from '../../helpers/agent-harness.js';
import { waitUntil } from '../../helpers/wait.js';

const ATTEMPTS = 3;
const exit = (id: string, origin: string) => ({ id, name: `n-${id}`, origin, exit_code: 12, reason: '', ended: 1 });

/** A controller: `down` answers nothing, `acks` acknowledges every end, `foreign` none of them. */
interface FakeController {
  mode: 'down' | 'acks' | 'foreign';
  /** The ids of each send, in order. */
  sends: string[][];
  send: (exits: ProcessExit[]) => Promise<string[]>;
}

function controller(mode: FakeController['mode']): FakeController {
  const c: FakeController = {
    mode,
    sends: [],
    send: async (exits) => {
      c.sends.push(exits.map((e) => e.id));
      if (c.mode === 'down') throw Errors.UNREACHABLE('connect ECONNREFUSED');
      return c.mode === 'acks' ? exits.map((e) => e.id) : [];
    },
  };
  return c;
}

let running: Map<string, ExitReporter>[] = [];
afterEach(async () => {
  for (const reporters of running) await Promise.all([...reporters.values()].map((r) => r.stop(0)));
  running = [];
});

function setup(controllers: Record<string, FakeController>, channel = Object.keys(controllers)) {
  const journal = new ProcessJournal(join(tempDir(), 'processes.journal'));
  const lines: { level: number; msg: string; controller?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const sends = new Map(Object.entries(controllers).map(([key, c]) => [key, c.send]));
  const reporters = exitReporters({ sends, channel, journal, logger, backoff: { baseMs: 1, maxMs: 5, jitter: 0 }, attempts: ATTEMPTS });
  running.push(reporters);
  /** A process whose start came from `origin` ended. */
  const ended = (id: string, origin: string) => {
    journal.exited(exit(id, origin));
    reporters.get(origin)!.kick();
  };
  const owed = () => journal.unreported().map((e) => e.id);
  return { journal, reporters, ended, owed, warnings: () => lines.filter((l) => l.level >= 40) };
}

const settle = () => new Promise((r) => setTimeout(r, 100));

describe('process ends their controller does not take', () => {
  it('go to the other polled controllers after its tries, and are forgotten once their own controller acknowledges them', async () => {
    const a = controller('down');
    const b = controller('acks');
    const s = setup({ a, b });
    s.ended('p1', 'a');
    await waitUntil(() => b.sends.length > 0, 2000, 'the end offered to b');
    expect(a.sends.length).toBeGreaterThanOrEqual(ATTEMPTS);
    expect(b.sends).toEqual([['p1']]);
    // b's acknowledgement does not say it stored the end (its own store would acknowledge an
    // unknown id too): the agent still owes it to a, and keeps trying a.
    const tried = a.sends.length;
    await settle();
    expect(s.owed()).toEqual(['p1']);
    expect(a.sends.length).toBeGreaterThan(tried);
    expect(b.sends).toEqual([['p1']]);

    a.mode = 'acks';
    await waitUntil(() => s.owed().length === 0, 2000, 'a to take the end');
    const sent = a.sends.length;
    await settle();
    expect(a.sends.length).toBe(sent);
    expect(b.sends).toEqual([['p1']]);
    // The first failure is worth a warning, and the hand-over; the retries are not.
    expect(s.warnings().map((l) => [l.controller, l.msg])).toEqual([
      ['a', 'could not report process ends; keeping them and retrying'],
      ['a', 'the controller did not take process ends; offering them to the other controllers too'],
    ]);
  });

  it('one that does not acknowledge them is asked once, and they stay owed to their own controller', async () => {
    const a = controller('down');
    const b = controller('foreign');
    const s = setup({ a, b });
    s.ended('p1', 'a');
    await waitUntil(() => b.sends.length > 0, 2000, 'the end offered to b');
    s.ended('p2', 'a');
    await waitUntil(() => b.sends.length > 1, 2000, 'the next end offered to b');
    await settle();
    expect(b.sends).toEqual([['p1'], ['p2']]);
    expect(s.owed()).toEqual(['p1', 'p2']);

    a.mode = 'acks';
    await waitUntil(() => s.owed().length === 0, 2000, 'a to take the ends');
    expect(b.sends).toEqual([['p1'], ['p2']]);
  });

  it('are offered to each other controller once, not passed on again by one that is down too', async () => {
    const a = controller('down');
    const b = controller('down');
    const c = controller('acks');
    const s = setup({ a, b, c });
    s.ended('p1', 'a');
    await waitUntil(() => c.sends.length > 0 && b.sends.length >= ATTEMPTS, 2000, 'b to fail its tries');
    await settle();
    expect(c.sends).toEqual([['p1']]);
    // b, down too, keeps trying it until it answers.
    expect(b.sends.every((ids) => ids.join() === 'p1')).toBe(true);
    b.mode = 'acks';
    await settle();
    const offered = b.sends.length;
    await settle();
    expect(b.sends.length).toBe(offered);
    expect(s.owed()).toEqual(['p1']);
  });

  it('go nowhere while their controller answers, and never to a controller outside the channel', async () => {
    const a = controller('acks');
    const b = controller('acks');
    const logs = controller('acks');
    const s = setup({ a, b, logs }, ['a', 'b']);
    s.ended('p1', 'a');
    await waitUntil(() => s.owed().length === 0, 2000, 'a to take the end');
    expect(a.sends).toEqual([['p1']]);

    a.mode = 'down';
    s.ended('p2', 'a');
    await waitUntil(() => b.sends.length > 0, 2000, 'the end offered to b');
    await settle();
    expect(b.sends).toEqual([['p2']]);
    expect(logs.sends).toEqual([]);
  });

  it('of a controller with no other polled controller stay in the journal, retried', async () => {
    const a = controller('down');
    const s = setup({ a });
    s.ended('p1', 'a');
    await waitUntil(() => a.sends.length > ATTEMPTS + 1, 2000, 'a to be retried past its tries');
    expect(s.owed()).toEqual(['p1']);
    expect(s.warnings()).toHaveLength(1);
  });
});
