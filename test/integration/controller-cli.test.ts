import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerClient } from '../../src/client/controller-client.js';
import type { Offer } from '../../src/protocol/job.js';
import { FakeAgent } from '../helpers/controller-agent.js';
import { startController, type ControllerProcess } from '../helpers/controller.js';
import { COX } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/wait.js';

const run = promisify(execFile);
let c: ControllerProcess | undefined;
let agents: FakeAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await c?.stop();
  agents = [];
  c = undefined;
});

async function cox(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // The URL goes right after the subcommand: anything after `--` belongs to the remote program.
    const { stdout, stderr } = await run(process.execPath, [COX, args[0]!, '--url', c!.url, ...args.slice(1)], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Answers `execute` with the command line it was given as stdout, as an agent running `echo` would. */
function echoAgent(gid: number, nid: number, roles: string[]): FakeAgent {
  const a = new FakeAgent({ url: c!.url, gid, nid, roles });
  agents.push(a);
  return a.run((o: Offer) => ({ data: '', streams: [`${[o.args.name, ...(o.args.args ?? [])].join(' ')}\n`, ''] }));
}

describe('cox exec, jobs, sessions against a real controller', () => {
  it('runs a program on a node, on a role, fanned out, and reports no match with a failing exit code', async () => {
    c = await startController();
    echoAgent(1, 10, ['storage']);
    echoAgent(1, 11, ['storage']);
    const client = new ControllerClient({ url: c.url });
    await waitUntil(async () => Object.keys(await client.listSessions()).length === 2, 5000, 'sessions');

    const one = await cox(['exec', '--gid', '1', '--nid', '10', '--wait', '--', 'echo', 'hi', '--there']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^\S+ {2}execute {2}SUCCESS {2}node 1_10\n {2}1_10 {2}SUCCESS {2}0\.001 s\n {4}stdout: echo hi --there\n$/);

    const fan = JSON.parse((await cox(['exec', '--role', 'storage', '--role', '*', '--fanout', '--wait', '--json', 'uptime'])).stdout);
    expect(fan.results.map((r: { gid: number; nid: number }) => `${r.gid}_${r.nid}`)).toEqual(['1_10', '1_11']);

    const none = await cox(['exec', '--role', 'gpu', '--', 'true']);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('ERROR');
    expect(none.stdout).toContain('no matching connected agents');

    const noTarget = await cox(['exec', '--', 'true']);
    expect([noTarget.code, noTarget.stderr]).toEqual([1, 'cox: give --nid (with --gid) or --role\n']);

    const sessions = JSON.parse((await cox(['sessions', '--json'])).stdout);
    expect(Object.keys(sessions)).toEqual(['1_10', '1_11']);
    expect(sessions['1_10'].slice(1)).toEqual(['storage']);
    expect((await cox(['sessions'])).stdout.split('\n')[1]).toMatch(/^1_10 +\d+ s ago +storage$/);

    const listed = await cox(['jobs', '--state', 'SUCCESS']);
    expect(listed.stdout.trim().split('\n')).toHaveLength(3);
    const shown = JSON.parse((await cox(['jobs', fan.job.id, '--json'])).stdout);
    expect(shown.state).toBe('SUCCESS');
  });

  it('executeJumpScript sends the script by hash; the agent fetches it; wait returns the finished job', async () => {
    c = await startController();
    mkdirSync(join(c.dir, 'scripts', 'jumpscale'), { recursive: true });
    writeFileSync(join(c.dir, 'scripts', 'jumpscale', 'greet.py'), 'print("hello")\n');
    const a = new FakeAgent({ url: c.url, gid: 1, nid: 10, roles: ['py'] });
    agents.push(a);
    a.run(async (o) => {
      const script = await a.request('GET', `/script?hash=${o.args.hash as string}`);
      return { data: JSON.stringify({ script: script.json, args: JSON.parse(o.data), max_time: o.args.max_time, ext: o.args.ext }) };
    });
    const client = new ControllerClient({ url: c.url });
    await waitUntil(async () => '1_10' in (await client.listSessions()), 5000, 'session');
    const job = await client.executeJumpScript('jumpscale', 'greet', { role: 'py', nid: 99, args: { msg: 'bleh' }, timeout: 5 });
    expect(job.state).toBe('SUCCESS');
    expect(JSON.parse(job.results[0]!.data)).toEqual({ script: 'print("hello")\n', args: { msg: 'bleh' }, max_time: 5, ext: 'py' });
    await expect(client.executeJumpScript('jumpscale', 'missing', { nid: 10 })).rejects.toMatchObject({ code: 'COX_NOT_FOUND' });
  });
});
