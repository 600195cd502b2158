import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../helpers/daemon.js';
import { composeCli, containersOf, dockerCli, engineOrSkip, holdEngineLock, project, type Project } from '../helpers/docker.js';
import { isUp, runTask, startDockerDaemon, waitRows, writeScf } from '../helpers/docker-daemon.js';

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

const texts = (session: { messages: [number, string][] }) => session.messages.map((m) => m[1]);

describe.runIf(haveEngine)('passive [docker] entries', () => {
  it('shows an unmatched service passively, never relaunches it, and adopts it when an SCF entry appears', async () => {
    p = project();
    const file = p.write(['ocs-a', 'ocs-p']);
    d = await startDockerDaemon(['a'], [file]);
    const first = await waitRows(d, (r) => isUp(r, 'a') && r.p?.next_action === 'down', 'a up, p passive');
    expect(first.r.p).toMatchObject({ agent_class: '[docker]', target_state: 'passive', operable: false });

    await composeCli(['-p', p.name, '-f', file, 'up', '-d', 'ocs-p'], p.dir);
    await waitRows(d, (r) => r.p.next_action === 'up', 'passive p seen up', 5_000);
    const [started] = await containersOf(p.name, 'ocs-p');
    await dockerCli(['kill', started!.id]);
    await waitRows(d, (r) => r.p.next_action === 'down', 'passive p seen down', 5_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await containersOf(p.name, 'ocs-p'))[0]!.running).toBe(false);

    await dockerCli(['start', started!.id]);
    await waitRows(d, (r) => r.p.next_action === 'up', 'passive p up again', 5_000);
    const [running] = await containersOf(p.name, 'ocs-p');

    writeScf(d, ['a', 'p']);
    const adopted = await waitRows(d, (r) => isUp(r, 'p') && r.p.agent_class === 'Dock[d]', 'p adopted', 5_000);
    expect(adopted.r.p.target_state).toBe('up');
    expect(await containersOf(p.name, 'ocs-p')).toEqual([running]);
    expect(Object.values(adopted.r).filter((row: any) => row.instance_id === 'p')).toHaveLength(1);
  }, 60_000);

  it('fails docker_pull with the reason when the registry cannot be reached', async () => {
    p = project();
    // A registry on a closed loopback port: the pull fails without any traffic leaving the host.
    const file = p.write(['ocs-a'], { image: '127.0.0.1:1/coxswain-test:latest' });
    d = await startDockerDaemon([], [file]);
    const began = Date.now();
    const session = await runTask(d, 'docker_pull', { services: ['a'], timeout: 20 });
    expect(session.success).toBe(false);
    const failure = texts(session).find((m) => m.startsWith('docker_pull failed'));
    // Here the registry's name does not resolve; elsewhere a silent network ends at the timeout.
    expect(failure).toMatch(/^docker_pull failed: .*pull ocs-a .*(failed with exit code \d+: .+|timed out after 20 s)$/);
    console.info(`docker_pull failed after ${Date.now() - began} ms: ${failure}`);
    expect(texts(await runTask(d, 'docker_pull', { services: ['nope'] }))).toContain('No compose service for: nope');
  }, 60_000);
});
