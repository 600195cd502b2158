import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, scfText, startDaemon, type Daemon } from '../helpers/daemon.js';
import { isAlive, waitUntil } from '../helpers/wait.js';

let d: Daemon | undefined;
afterEach(async () => {
  await d?.stop();
  d = undefined;
});

const entry = (id: string, extra = '') => `{agent-class: Sleeper, instance-id: ${id}${extra}}`;
const view = async () => (await api(d!, 'GET', '/api/children')).json;
const states = async (): Promise<Record<string, any>> => Object.fromEntries((await view()).children.map((c: any) => [c.instance_id, c]));
const launches = (id: string) => (readFileSync(join(d!.dir, 'logs', `${id}.log`), 'utf8').match(/^--- coxswain .* launching:/gm) ?? []).length;

async function edit(entries: string[], until: (s: Record<string, any>) => boolean, what: string) {
  writeFileSync(d!.scf, scfText(entries));
  const began = Date.now();
  const s = await waitUntil(async () => {
    const now = await states();
    return until(now) ? now : null;
  }, 5_000, what);
  return { s, ms: Date.now() - began };
}

describe('SCF edits under a running host manager', () => {
  it('add, remove, change, ignore and a syntax error give exactly the expected starts and stops', async () => {
    d = await startDaemon(scfText(['a', 'b', 'c', 'd'].map((id) => entry(id))));
    const start = await waitUntil(async () => {
      const s = await states();
      return Object.values(s).filter((c) => c.next_action === 'up').length === 4 ? s : null;
    }, 10_000, 'all up');
    const pid = (id: string) => start[id].pid as number;
    const unchanged = (s: Record<string, any>, ids: string[]) => ids.every((id) => s[id]?.pid === pid(id) && launches(id) === 1);

    const added = await edit(['a', 'b', 'c', 'd', 'e'].map((id) => entry(id)), (s) => s.e?.next_action === 'up', 'e added');
    expect(unchanged(added.s, ['a', 'b', 'c', 'd'])).toBe(true);
    expect(launches('e')).toBe(1);

    const removed = await edit(['a', 'c', 'd', 'e'].map((id) => entry(id)), (s) => !('b' in s), 'b removed');
    expect(isAlive(pid('b'))).toBe(false);
    expect(unchanged(removed.s, ['a', 'c', 'd'])).toBe(true);

    const changed = await edit([entry('a'), entry('c', ', arguments: [--new]'), entry('d'), entry('e')], (s) => s.c?.next_action === 'up' && s.c.pid !== pid('c'), 'c restarted');
    expect(launches('c')).toBe(2);
    expect(isAlive(pid('c'))).toBe(false);
    expect(unchanged(changed.s, ['a', 'd'])).toBe(true);

    const ignored = await edit([entry('a'), entry('c', ', arguments: [--new]'), entry('d', ', manage: ignore'), entry('e')], (s) => !('d' in s), 'd ignored');
    expect(isAlive(pid('d'))).toBe(false);
    expect(unchanged(ignored.s, ['a'])).toBe(true);
    const cPid = ignored.s.c.pid;

    writeFileSync(d.scf, `${scfText([entry('a')])}      - {agent-class: Sleeper, instance-id: [broken\n`);
    const failed = await waitUntil(async () => {
      const v = await view();
      return v.config_parse_status['[SCF]'][0] === false ? v : null;
    }, 5_000, 'parse error reported');
    expect(failed.config_parse_status['[SCF]'][2]).toMatch(new RegExp(`^${d.scf.replace(/[.]/g, '\\.')}:\\d+: `));
    const afterError = await states();
    expect(Object.keys(afterError).sort()).toEqual(['a', 'c', 'e']);
    expect(afterError.a.pid).toBe(pid('a'));
    expect(afterError.c.pid).toBe(cPid);
    expect(d.output()).toContain('Site config not reloaded, keeping the last good one');

    console.info(`SCF edit applied in: add ${added.ms} ms, remove ${removed.ms} ms, change ${changed.ms} ms, ignore ${ignored.ms} ms`);
    expect(launches('a')).toBe(1);
    expect(launches('e')).toBe(1);
  });

  it('refuses an edit of its own arguments that it could not restart with, naming file, line and field', async () => {
    d = await startDaemon(scfText([entry('a')], ['--initial-state', 'up']));
    const a = await waitUntil(async () => {
      const s = await states();
      return s.a?.next_action === 'up' ? s.a : null;
    }, 10_000, 'a up');
    const refused = async (hmArgs: string[], message: string) => {
      writeFileSync(d!.scf, scfText([entry('a'), entry('b')], hmArgs));
      await waitUntil(async () => {
        const [ok, , text] = (await view()).config_parse_status['[SCF]'];
        return !ok && text === message;
      }, 5_000, `${hmArgs.join(' ')} refused with: ${message}`);
      expect(Object.keys(await states())).toEqual(['a']);
    };
    await refused(
      ['--initial-state', 'sideways', '--bogus'],
      `${d.scf}:8: arguments: option '--initial-state <state>' argument 'sideways' is invalid. Allowed choices are up, down.`,
    );
    await refused(
      ['--address', '0.0.0.0'],
      `${d.scf}:8: arguments: --address 0.0.0.0 is not loopback: set --token (or COX_TOKEN) so the API is not open to the network`,
    );

    writeFileSync(d.scf, scfText([entry('a'), entry('b')], ['--address', '0.0.0.0', '--token', 'secret']));
    const applied = await waitUntil(async () => ((await states()).b ? await view() : null), 5_000, 'b added');
    expect(applied.config_parse_status['[SCF]'][0]).toBe(true);
    expect((await states()).a.pid).toBe(a.pid);
  });
});
