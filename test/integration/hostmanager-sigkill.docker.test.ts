/** Issue 4's fault test: SIGKILL the host manager with 20 native and 3 docker children up, start it again. */
import { afterEach, describe, expect, it } from 'vitest';
import { scfText, sleepers, startDaemon, startDaemonIn, type Daemon } from '../helpers/daemon.js';
import { dockerEntry, isUp, rows, waitRows } from '../helpers/docker-daemon.js';
import { containersOf, engineOrSkip, holdEngineLock, project, type Project } from '../helpers/docker.js';
import { isAlive } from '../helpers/wait.js';

const haveEngine = await engineOrSkip();
const daemons: Daemon[] = [];
let p: Project | undefined;

holdEngineLock();
afterEach(async () => {
  for (const d of daemons.splice(0).reverse()) await d.stop().catch(() => null);
  await p?.cleanup();
  p = undefined;
});

const natives = Array.from({ length: 20 }, (_, i) => `n${i}`);
const dockers = ['d1', 'd2', 'd3'];

describe.runIf(haveEngine)('host manager SIGKILLed with native and docker children up', () => {
  it('keeps the same pids and container ids, with no duplicate and no orphan', async () => {
    p = project();
    const file = p.write(dockers.map((id) => `ocs-${id}`));
    const scf = scfText([...sleepers(natives), ...dockers.map((id) => dockerEntry(id))]);
    const first = await startDaemon(scf, ['--docker-compose', file]);
    daemons.push(first);
    const before = (await waitRows(first, (r) => isUp(r, ...natives, ...dockers), 'all 23 up', 60_000)).r;
    const containersBefore = await Promise.all(dockers.map(async (id) => (await containersOf(p!.name, `ocs-${id}`))));

    first.proc.kill('SIGKILL');
    await first.exited;

    const second = await startDaemonIn(first.dir, ['--docker-compose', file]);
    daemons.push(second);
    const { r: after, ms } = await waitRows(second, (r) => isUp(r, ...natives, ...dockers), 'all 23 back', 30_000);
    for (const id of natives) {
      expect(after[id].pid, id).toBe(before[id].pid);
      expect(after[id].reason, id).toBe(`re-attached (pid ${before[id].pid})`);
    }
    const containersAfter = await Promise.all(dockers.map(async (id) => (await containersOf(p!.name, `ocs-${id}`))));
    for (const [i, id] of dockers.entries()) {
      expect(containersAfter[i], id).toHaveLength(1);
      expect(containersAfter[i]![0]!.id, id).toBe(containersBefore[i]![0]!.id);
      expect(containersAfter[i]![0]!.startedAt, id).toBe(containersBefore[i]![0]!.startedAt);
    }
    for (const c of Object.values(before)) if (c.pid) expect(isAlive(c.pid)).toBe(true);
    expect(Object.values(await rows(second)).map((c: any) => c.target_state).sort()).toEqual(Array(23).fill('up'));
    console.info(`SIGKILL restart: 20 native + 3 docker children back in ${ms} ms after the new host manager answered`);
  }, 120_000);
});
