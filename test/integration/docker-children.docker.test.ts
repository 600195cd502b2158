import { afterEach, describe, expect, it } from 'vitest';
import { api, startDaemonIn, type Daemon } from '../helpers/daemon.js';
import { containersOf, composeCli, docker, dockerCli, engineOrSkip, holdEngineLock, project, TEST_IMAGE, type Project } from '../helpers/docker.js';
import { isUp, managerData, rows, startDockerDaemon, waitRows } from '../helpers/docker-daemon.js';
import { waitUntil } from '../helpers/wait.js';

const haveEngine = await engineOrSkip();
let d: Daemon | undefined;
let p: Project | undefined;
const images: string[] = [];

holdEngineLock();
afterEach(async () => {
  await d?.stop();
  d = undefined;
  await p?.cleanup();
  p = undefined;
  for (const tag of images.splice(0)) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
});

describe.runIf(haveEngine)('docker-compose children on the real engine', () => {
  it('relaunches a container killed with docker kill, and `down` removes it', async () => {
    p = project();
    const file = p.write(['ocs-a']);
    d = await startDockerDaemon(['a'], [file]);
    const first = await waitRows(d, (r) => isUp(r, 'a'), 'a up');
    expect(first.r.a.agent_class).toBe('Dock[d]');
    const [before] = await containersOf(p.name, 'ocs-a');
    expect(before!.running).toBe(true);
    expect(first.r.a.pid).toBeGreaterThan(0);

    await dockerCli(['kill', before!.id]);
    const again = await waitRows(d, (r) => r.a.crashes === 1 && isUp(r, 'a'), 'a relaunched', 10_000);
    const [after] = await containersOf(p.name, 'ocs-a');
    expect(after!.running).toBe(true);
    expect(after!.startedAt).not.toBe(before!.startedAt);
    expect(again.r.a.last_exit).toBe('exited with code 137');
    console.info(`docker kill -> up again in ${again.ms} ms (as polled through the API)`);

    await api(d, 'POST', '/api/ops/update/start', { requests: [['a', 'down']] });
    await waitRows(d, (r) => r.a.next_action === 'down', 'a down', 15_000);
    expect(await containersOf(p.name, 'ocs-a')).toEqual([]);
  }, 60_000);

  it('adopts a running container at start, leaves it running on die(disown_dockers), and flags a retagged image', async () => {
    p = project();
    const tag = `coxswain-test:${p.name}`;
    images.push(tag);
    await dockerCli(['tag', TEST_IMAGE, tag]);
    const file = p.write(['ocs-a'], { image: tag });
    await composeCli(['-p', p.name, '-f', file, 'up', '-d', 'ocs-a'], p.dir);
    const [pre] = await containersOf(p.name, 'ocs-a');

    d = await startDockerDaemon(['a'], [file]);
    const { r } = await waitRows(d, (x) => isUp(x, 'a'), 'a adopted');
    expect(r.a.reason).toMatch(/re-attached|running/);
    expect(await containersOf(p.name, 'ocs-a')).toEqual([pre]);
    expect(r.a.restart_required).toBe(false);

    // The tag now names another image: the running container is flagged, not restarted.
    await dockerCli(['commit', pre!.id, tag]);
    await waitRows(d, (x) => x.a.restart_required === true, 'restart_required', 5_000);
    // Session data is republished shortly after a change, not at once.
    await waitUntil(async () => (await managerData(d!)).new_tags['ocs-a'] === tag, 2_000, 'new_tags');

    await api(d, 'POST', '/api/ops/die/start', { disown_dockers: true });
    expect(await waitUntil(() => d!.proc.exitCode !== null, 20_000, 'host manager exited')).toBe(true);
    expect(await containersOf(p.name, 'ocs-a')).toEqual([pre]);

    // A new run on the same state dir takes it over again.
    d = await startDaemonIn(d.dir, ['--docker-compose', file]);
    await waitRows(d, (x) => isUp(x, 'a'), 'a adopted again');
    expect(await containersOf(p.name, 'ocs-a')).toEqual([pre]);
    expect((await rows(d)).a.crashes).toBe(0);
  }, 60_000);
});
