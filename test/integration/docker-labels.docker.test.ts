/**
 * Containers the operator made with compose by hand, whose `config_files` label does not spell
 * the compose file as the host manager does: compose v1 writes `-f` as given, relative to the
 * directory it ran in. And a container compose takes for the service that another compose file made.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, scfText, startDaemon, type Daemon } from '../helpers/daemon.js';
import { composeCli, containersOf, engineOrSkip, holdEngineLock, project, type Project } from '../helpers/docker.js';
import { isUp, waitRows } from '../helpers/docker-daemon.js';

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

describe.runIf(haveEngine)('containers compose made by hand', () => {
  it('adopts, shows and brings down a container made with a relative -f from another directory', async () => {
    p = project();
    const file = p.write(['ocs-a', 'ocs-p']);
    // As the operator would, from the project directory's parent.
    const relative = join(basename(p.dir), 'docker-compose.yaml');
    await composeCli(['-p', p.name, '-f', relative, 'up', '-d', 'ocs-a', 'ocs-p'], dirname(p.dir));
    const [made] = await containersOf(p.name, 'ocs-a');
    expect(made!.running).toBe(true);

    d = await startDaemon(scfText(['{agent-class: Dock, instance-id: a, manage: docker/up, stop-timeout: 3}']), ['--docker-compose', file]);
    const { r } = await waitRows(d, (x) => isUp(x, 'a') && x.p?.next_action === 'up', 'a adopted, passive p up', 10_000);
    expect(r.a.crashes).toBe(0);
    expect(await containersOf(p.name, 'ocs-a')).toEqual([made]);

    await api(d, 'POST', '/api/ops/update/start', { requests: [['a', 'down']] });
    await waitRows(d, (x) => x.a.next_action === 'down', 'a down', 15_000);
    expect(await containersOf(p.name, 'ocs-a')).toEqual([]);
  }, 60_000);

  it('says why it cannot supervise the container compose keeps for the service, and `down` removes it', async () => {
    p = project();
    const file = p.write(['ocs-a']);
    // The same service of the same project, from a copy of the file elsewhere: compose finds that
    // container up to date when the host manager brings the service up.
    mkdirSync(join(p.dir, 'copy'));
    writeFileSync(join(p.dir, 'copy', 'docker-compose.yaml'), readFileSync(file));
    await composeCli(['-p', p.name, '-f', 'copy/docker-compose.yaml', 'up', '-d', 'ocs-a'], p.dir);
    const [foreign] = await containersOf(p.name, 'ocs-a');

    const entry = '{agent-class: Dock, instance-id: a, manage: docker/up, stop-timeout: 3, restart: {backoff-base: 60, jitter: 0}}';
    d = await startDaemon(scfText([entry]), ['--docker-compose', file]);
    const { r } = await waitRows(d, (x) => x.a?.next_action === 'start_at' && x.a.crashes === 2, 'a failed to start twice', 20_000);
    expect(r.a.reason).toMatch(
      new RegExp(`^failed to start: ocs-a was brought up, but its container ${foreign!.name} was created from \\S*copy/docker-compose.yaml \\(working dir \\S+\\), not from ${file}`),
    );
    expect(await containersOf(p.name, 'ocs-a')).toEqual([foreign]);

    await api(d, 'POST', '/api/ops/update/start', { requests: [['a', 'down']] });
    const down = await waitRows(d, (x) => x.a.next_action === 'down', 'a down', 15_000);
    expect(down.r.a.reason).toBe('stopped on request');
    expect(await containersOf(p.name, 'ocs-a')).toEqual([]);
  }, 60_000);
});
