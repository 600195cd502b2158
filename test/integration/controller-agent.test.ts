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
let agent: ChildProcess | undefined;
afterEach(async () => {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent!.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
  }
  await c?.stop();
  agent = c = undefined;
});

describe.each(['stream', 'http'])('controller with the real agent (transport %s)', (transport) => {
  it('runs execute jobs and jumpscripts end to end', async () => {
    c = await startController();
    mkdirSync(join(c.dir, 'scripts', 'demo'), { recursive: true });
    writeFileSync(join(c.dir, 'scripts', 'demo', 'greet.mjs'), 'let s = ""; for await (const b of process.stdin) s += b; console.log("20::" + JSON.stringify({ hello: JSON.parse(s).who }));\n');
    const dir = join(c.dir, 'agent');
    mkdirSync(dir);
    const toml = ['[main]', 'gid = 1', 'nid = 10', 'max_jobs = 4', 'message_id_file = "./.mid"', 'history_file = "./.history"', 'roles = ["demo"]', '', '[controllers.main]', `url = "${c.url}"`, `transport = "${transport}"`, ''];
    writeFileSync(join(dir, 'agent.toml'), toml.join('\n'));
    agent = spawn(process.execPath, [COX, 'agent', '-c', 'agent.toml'], { cwd: dir, stdio: 'ignore' });
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
});
