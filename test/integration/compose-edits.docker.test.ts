import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../helpers/daemon.js';
import { composeCli, containersOf, engineOrSkip, holdEngineLock, project, type Project } from '../helpers/docker.js';
import { isUp, managerData, runTask, startDockerDaemon, waitRows } from '../helpers/docker-daemon.js';
import { waitUntil } from '../helpers/wait.js';

const haveEngine = await engineOrSkip();
let d: Daemon | undefined;
let p: Project | undefined;

holdEngineLock();
afterEach(async () => {
  await d?.stop();
  d = undefined;
  await p?.cleanup();
  p = undefined;
});

const found = (r: Record<string, any>, id: string) => r[id]?.agent_class === 'Dock[d]' && ['wait_start', 'up'].includes(r[id].next_action);

describe.runIf(haveEngine)('compose files edited under a running host manager', () => {
  it('picks up an added and a renamed service within 1 s, and keeps the last good state on a broken file', async () => {
    p = project();
    const file = p.write(['ocs-a']);
    d = await startDockerDaemon(['a', 'b', 'c'], [file]);
    const start = await waitRows(d, (r) => isUp(r, 'a') && r.b?.next_action === '?', 'a up, b not found');
    expect(start.r.b.agent_class).toBe('Dock[d?]');
    expect(start.r.b.reason).toContain('"ocs-b" not found');
    const [a] = await containersOf(p.name, 'ocs-a');

    p.write(['ocs-a', 'ocs-b']);
    const added = await waitRows(d, (r) => found(r, 'b'), 'b picked up', 5_000);
    expect(added.ms).toBeLessThanOrEqual(1_000);
    await waitRows(d, (r) => isUp(r, 'b'), 'b up');

    p.write(['ocs-c', 'ocs-b']);
    const renamed = await waitRows(d, (r) => found(r, 'c') && r.a.next_action === '?', 'ocs-a renamed to ocs-c', 5_000);
    expect(renamed.ms).toBeLessThanOrEqual(1_000);
    expect(renamed.r.a.agent_class).toBe('Dock[d?]');
    await waitRows(d, (r) => isUp(r, 'b', 'c'), 'c up');
    console.info(`compose edit picked up in: add ${added.ms} ms, rename ${renamed.ms} ms`);

    // a's container is stopped, not deleted: an orphan until remove_orphans.
    const orphans = await waitUntil(async () => {
      const o = (await managerData(d!)).orphans;
      return Object.keys(o).length === 1 && !Object.values<any>(o)[0].running ? o : null;
    }, 15_000, 'orphan listed');
    expect(Object.values<any>(orphans)[0]).toMatchObject({ service: 'ocs-a', id: a!.id.slice(0, 12) });
    const removal = await runTask(d, 'remove_orphans');
    expect(removal.success).toBe(true);
    expect(await containersOf(p.name, 'ocs-a')).toEqual([]);
    await waitUntil(async () => Object.keys((await managerData(d!)).orphans).length === 0, 2_000, 'orphans cleared');

    const [b] = await containersOf(p.name, 'ocs-b');
    writeFileSync(file, `${readFileSync(file, 'utf8')}  ocs-a:\n    image: [unclosed\n`);
    const status = await waitUntil(async () => {
      const s = (await managerData(d!)).config_parse_status[file];
      return s?.[0] === false ? s : null;
    }, 5_000, 'parse error reported');
    expect(status[2]).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:\\d+: `));
    await new Promise((r) => setTimeout(r, 500));
    const kept = await waitRows(d, (r) => isUp(r, 'b', 'c') && r.a.next_action === '?', 'state kept');
    expect(kept.r.b.crashes + kept.r.c.crashes).toBe(0);
    expect(await containersOf(p.name, 'ocs-b')).toEqual([b]);
  }, 60_000);

  it('supervises the services of two compose files of one project, each container by its own file', async () => {
    p = project();
    const one = p.write(['ocs-a'], { file: 'one.yaml' });
    const two = p.write(['ocs-b', 'extra'], { file: 'two.yaml' });
    // Same project, but a file the host manager was not given: its containers are not ours.
    const other = p.write(['ocs-x'], { file: 'other.yaml' });
    await composeCli(['-p', p.name, '-f', other, 'up', '-d', 'ocs-x'], p.dir);

    d = await startDockerDaemon(['a', 'b'], [one, two]);
    const { r } = await waitRows(d, (x) => isUp(x, 'a', 'b'), 'a and b up');
    expect(r.extra).toMatchObject({ agent_class: '[docker]', target_state: 'passive', next_action: 'down' });
    expect(r.x).toBeUndefined();
    const [a] = await containersOf(p.name, 'ocs-a');
    const [b] = await containersOf(p.name, 'ocs-b');
    expect(a!.configFiles).toContain('one.yaml');
    expect(b!.configFiles).toContain('two.yaml');
    // ocs-x comes from other.yaml: neither an orphan of one.yaml nor of two.yaml.
    expect((await managerData(d)).orphans).toEqual({});
  }, 60_000);
});
