/** The real controller with the real `cox agent`: the protocol as both sides build it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerClient } from '../../src/client/controller-client.js';
import { startController, type ControllerProcess } from '../helpers/controller.js';
import { COX } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/wait.js';

let c: ControllerProcess | undefined;
let agents: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(
    agents.map((agent) => {
      if (agent.exitCode !== null) return;
      const exited = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      return exited;
    }),
  );
  await c?.stop();
  agents = [];
  c = undefined;
});

/** The real `cox agent` for node 1_<nid>, polling `controller`; it is stopped after the test. */
function runAgent(controller: ControllerProcess, nid: number, transport: string, main: { maxJobs: number; roles: string[] }): void {
  const dir = join(controller.dir, `agent-${nid}`);
  mkdirSync(dir);
  const toml = ['[main]', 'gid = 1', `nid = ${nid}`, `max_jobs = ${main.maxJobs}`, 'message_id_file = "./.mid"', 'history_file = "./.history"', `roles = ${JSON.stringify(main.roles)}`, '', '[controllers.main]', `url = "${controller.url}"`, `transport = "${transport}"`, ''];
  writeFileSync(join(dir, 'agent.toml'), toml.join('\n'));
  agents.push(spawn(process.execPath, [COX, 'agent', '-c', 'agent.toml'], { cwd: dir, stdio: 'ignore' }));
}

const sleep = (id: string, seconds: number, target: { nid?: number; roles?: string[] }) => ({ id, cmd: 'execute', gid: 1, ...target, args: { name: 'sleep', args: [String(seconds)] } });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(['stream', 'http'])('controller with the real agent (transport %s)', (transport) => {
  it('runs execute jobs and jumpscripts end to end', async () => {
    c = await startController();
    mkdirSync(join(c.dir, 'scripts', 'demo'), { recursive: true });
    writeFileSync(join(c.dir, 'scripts', 'demo', 'greet.mjs'), 'let s = ""; for await (const b of process.stdin) s += b; console.log("20::" + JSON.stringify({ hello: JSON.parse(s).who }));\n');
    runAgent(c, 10, transport, { maxJobs: 4, roles: ['demo'] });
    const client = new ControllerClient({ url: c.url });
    await waitUntil(async () => '1_10' in (await client.listSessions()), 10_000, 'the agent to poll');

    const exec = await client.submit({ cmd: 'execute', roles: ['demo'], args: { name: process.execPath, args: ['-e', 'console.log("hi")'] }, wait: 10 });
    expect(exec.state).toBe('SUCCESS');
    expect(exec.results[0]!.streams[0]).toBe('hi\n');

    const script = await client.executeJumpScript('demo', 'greet', { role: 'demo', args: { who: 'jumpscale' }, timeout: 10 });
    expect(script.state).toBe('SUCCESS');
    expect(JSON.parse(script.results[0]!.data)).toEqual({ hello: 'jumpscale' });

    // Submitted together, they reach the agent several to a poll, acknowledged and reported in
    // batches: each still runs once and ends with its one result.
    const ids = Array.from({ length: 12 }, (_, i) => `batch-${i}`);
    await Promise.all(ids.map((id) => client.submit({ id, cmd: 'execute', gid: 1, nid: 10, args: { name: process.execPath, args: ['-e', `console.log("${id}")`] } })));
    for (const id of ids) {
      const view = await client.wait(id, 10);
      expect([view.state, view.results.length, view.results[0]!.streams[0]]).toEqual(['SUCCESS', 1, `${id}\n`]);
    }
  });

  it('takes no more jobs than max_jobs: the rest stay QUEUED at the controller, yet a kill gets through at once', async () => {
    c = await startController();
    runAgent(c, 10, transport, { maxJobs: 1, roles: ['r'] });
    const client = new ControllerClient({ url: c.url });
    await waitUntil(async () => '1_10' in (await client.listSessions()), 10_000, 'the agent to poll');
    for (const job of [sleep('long', 30, { nid: 10 }), sleep('next', 0.5, { nid: 10 }), sleep('last', 0.5, { nid: 10 })]) await client.submit(job);
    await waitUntil(async () => (await client.get('long')).state === 'RUNNING', 10_000, 'the first job to run');
    // A full agent that took more would have acknowledged them by now.
    await pause(500);
    expect(await Promise.all(['long', 'next', 'last'].map(async (id) => (await client.get(id)).state))).toEqual(['RUNNING', 'QUEUED', 'QUEUED']);

    const killedAt = Date.now();
    await client.kill('long');
    expect((await client.wait('long', 5)).state).toBe('KILLED');
    expect(Date.now() - killedAt).toBeLessThan(3000);
    // The freed slot is filled at once, not after the full agent's poll times out (60 s).
    const [next, last] = [await client.wait('next', 10), await client.wait('last', 10)];
    expect([next.state, last.state]).toEqual(['SUCCESS', 'SUCCESS']);
    expect(last.results[0]!.starttime).toBeGreaterThanOrEqual(next.results[0]!.starttime + next.results[0]!.time);
  });

  it('gives a role job to the node with a free slot, not to a full one whose poll waited longer', async () => {
    c = await startController();
    runAgent(c, 10, transport, { maxJobs: 1, roles: ['r'] });
    runAgent(c, 11, transport, { maxJobs: 1, roles: ['r'] });
    const client = new ControllerClient({ url: c.url });
    await waitUntil(async () => Object.keys(await client.listSessions()).length === 2, 10_000, 'both agents to poll');
    await client.submit(sleep('busy', 30, { nid: 10 }));
    await waitUntil(async () => (await client.get('busy')).state === 'RUNNING', 10_000, 'the job that fills 1_10');
    // 1_11 runs a job too, so its next poll begins after the one 1_10 holds while full.
    expect((await client.submit({ ...sleep('brief', 0, { nid: 11 }), wait: 10 })).state).toBe('SUCCESS');
    await pause(300);
    const role = await client.submit({ ...sleep('role', 0, { roles: ['r'] }), wait: 10 });
    expect([role.state, role.results[0]?.nid]).toEqual(['SUCCESS', 11]);
  });
});
