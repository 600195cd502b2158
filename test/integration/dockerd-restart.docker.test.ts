import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../helpers/daemon.js';
import { containersOf, engineOrSkip, holdEngineLock, project, restartDockerd, type Project } from '../helpers/docker.js';
import { isUp, rows, startDockerDaemon, waitRows } from '../helpers/docker-daemon.js';
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

describe.runIf(haveEngine)('dockerd restarted under a running host manager', () => {
  it('shows ? with the reason while the engine is gone, then recovers without bouncing containers', async () => {
    p = project();
    const file = p.write(['ocs-a', 'ocs-b', 'ocs-p']);
    d = await startDockerDaemon(['a', 'b'], [file]);
    const { r: first } = await waitRows(d, (r) => isUp(r, 'a', 'b'), 'a and b up');
    // What the restart must not add to: a child that needed a second try to come up under a
    // loaded suite is another test's business, but it is shown, so such a run can be read.
    const crashesBefore = first.a.crashes + first.b.crashes;
    if (crashesBefore > 0) console.info(`before the restart: a ${JSON.stringify(first.a.last_exit)} ${first.a.reason}; b ${JSON.stringify(first.b.last_exit)} ${first.b.reason}`);
    const before = [...(await containersOf(p.name, 'ocs-a')), ...(await containersOf(p.name, 'ocs-b'))];
    expect(before.every((c) => c.running)).toBe(true);

    await restartDockerd(async () => {
      const gone = await waitUntil(async () => {
        const r = await rows(d!);
        return ['a', 'b', 'p'].every((id) => r[id]?.next_action === '?') ? r : null;
      }, 5_000, 'children shown ? while dockerd is down');
      expect(gone.a.reason).toMatch(/^Docker Engine unreachable \(.+\); retrying$/);
      expect(gone.p.reason).toBe(gone.a.reason);
    });

    const back = await waitRows(d, (r) => isUp(r, 'a', 'b') && r.p.next_action === 'down', 'recovered', 15_000);
    const after = [...(await containersOf(p.name, 'ocs-a')), ...(await containersOf(p.name, 'ocs-b'))];
    expect(after).toEqual(before);
    expect(back.r.a.crashes + back.r.b.crashes).toBe(crashesBefore);
    console.info(`recovered ${back.ms} ms after dockerd answered again`);
  }, 90_000);
});
