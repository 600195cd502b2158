/**
 * Named processes end to end (REFERENCE 3): the real controller, real agents, real processes and
 * files. Exit codes, cancel_all reaching grandchildren, resources against this machine, and the
 * `cox` commands with their errors.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCores } from '../../src/agent/processes/cpu-topology.js';
import { ControllerClient } from '../../src/client/controller-client.js';
import { EXIT_NOT_STARTED } from '../../src/protocol/process.js';
import { AGENT_FIXTURES, runAgent, tempDir, treePids } from '../helpers/agent-harness.js';
import { startController, type ControllerProcess } from '../helpers/controller.js';
import { COX } from '../helpers/daemon.js';
import { Collector, startCoxAgent, waitForNodes, type AgentProcess } from '../helpers/processes.js';
import { isAlive, waitUntil } from '../helpers/wait.js';

const run = promisify(execFile);
let c: ControllerProcess | undefined;
let agents: AgentProcess[] = [];
afterEach(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGTERM')));
  await c?.stop();
  agents = [];
  c = undefined;
});

async function setup(nids: number[]) {
  c = await startController();
  agents = nids.map((nid) => startCoxAgent(join(c!.dir, `agent-${nid}`), c!.url, nid));
  const client = new ControllerClient({ url: c.url });
  await waitForNodes(client, nids.map((n) => `1_${n}`));
  return { client, collector: new Collector(client), work: tempDir('cox-work-') };
}

async function cox(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [COX, args[0]!, '--url', c!.url, ...args.slice(1)], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('named processes with real agents', () => {
  it('runs each process in its directory with its environment, overwrites its files, and hands out each exit once', async () => {
    const { client, collector, work } = await setup([10]);
    const out = (name: string) => [join(work, `${name}.out`), join(work, `${name}.err`)] as const;
    writeFileSync(out('echo')[0], 'a much longer file that was here before\n');
    const sh = (script: string) => ['/bin/sh', '-c', script];
    await client.start('1_10', 'echo', work, sh('echo "$GREETING from $(pwd)"; echo oops >&2; exit 3'), { GREETING: 'hi' }, ...out('echo'));
    await client.start('1_10', 'signalled', work, sh('kill -USR1 $$'), {}, ...out('signalled'));
    await client.start('1_10', 'missing', work, ['/nonexistent/program'], {}, ...out('missing'));
    await client.start('1_10', 'nowhere', '/nonexistent/dir', ['/bin/true'], {}, ...out('nowhere'));

    const done = await collector.until(['echo', 'signalled', 'missing', 'nowhere']);
    expect(collector.names().sort()).toEqual(['echo', 'missing', 'nowhere', 'signalled']);
    expect(done.get('echo')).toMatchObject({ node: '1_10', exit_code: 3, reason: '' });
    expect(done.get('signalled')).toMatchObject({ exit_code: -10, reason: 'killed by SIGUSR1' });
    expect(done.get('missing')).toMatchObject({ exit_code: EXIT_NOT_STARTED, reason: 'cannot start /nonexistent/program: spawn /nonexistent/program ENOENT' });
    expect(done.get('nowhere')).toMatchObject({ exit_code: EXIT_NOT_STARTED, reason: 'work_dir /nonexistent/dir does not exist' });
    expect(readFileSync(out('echo')[0], 'utf8')).toBe(`hi from ${work}\n`);
    expect(readFileSync(out('echo')[1], 'utf8')).toBe('oops\n');
    expect(await client.getFinished()).toEqual([]);
    // The name is free again once its process finished.
    await client.start('1_10', 'echo', work, sh('exit 0'), {}, ...out('echo'));
    expect(await client.getFinished({ wait: 10 })).toEqual([['echo', 0]]);
  });

  it('cancel_all kills whole process groups on every node, grandchildren and SIGTERM-deaf leaders too', async () => {
    c = await startController();
    const client = new ControllerClient({ url: c.url });
    const toml = (nid: number) => `[main]\ngid = 1\nnid = ${nid}\n\n[controllers.main]\nurl = "${c!.url}"\n`;
    // In-process agents, for a short SIGTERM → SIGKILL grace; their processes are real all the same.
    for (const nid of [10, 11]) runAgent(tempDir(), toml(nid));
    await waitForNodes(client, ['1_10', '1_11']);
    const work = tempDir('cox-work-');
    const tree = (name: string, node: string, ...flags: string[]) =>
      client.start(node, name, work, [process.execPath, `${AGENT_FIXTURES}tree.mjs`, join(work, `${name}.pids`), ...flags], {}, join(work, `${name}.out`), join(work, `${name}.err`));
    await tree('polite', '1_10');
    await tree('deaf', '1_11', '--ignore-term');
    const pids = await waitUntil(() => {
      const all = ['polite', 'deaf'].map((n) => treePids(join(work, `${n}.pids`)));
      return all.every(Boolean) ? (all.flat() as number[]) : null;
    }, 10_000, 'both trees running');
    expect(pids.every(isAlive)).toBe(true);

    expect(await client.cancelAll()).toEqual({ nodes: ['1_10', '1_11'], withdrawn: 0 });
    await waitUntil(() => pids.every((p) => !isAlive(p)), 5000, 'leaders and grandchildren dead');
    const collector = new Collector(client);
    const done = await collector.until(['polite', 'deaf']);
    expect(collector.names().sort()).toEqual(['deaf', 'polite']);
    expect(done.get('polite')).toMatchObject({ node: '1_10', exit_code: -15 });
    expect(done.get('deaf')).toMatchObject({ node: '1_11', exit_code: -9 });
    // cancel_all is not sticky: what starts afterwards runs.
    await client.start('1_10', 'after', work, ['/bin/sh', '-c', 'exit 4'], {}, join(work, 'after.out'), join(work, 'after.err'));
    expect(await client.getFinished({ wait: 10 })).toEqual([['after', 4]]);
  });

  it('reports each node’s cores from its affinity and /sys, as taskset narrowed it', async (ctx) => {
    const mine = cpuCores();
    if (mine.flat().length < 2) return ctx.skip();
    const last = mine.flat().at(-1)!;
    c = await startController();
    agents = [startCoxAgent(join(c.dir, 'a10'), c.url, 10), startCoxAgent(join(c.dir, 'a11'), c.url, 11, ['taskset', '-c', String(last)])];
    const client = new ControllerClient({ url: c.url });
    await waitForNodes(client, ['1_10', '1_11']);
    await waitUntil(async () => Object.keys(await client.getResources()).length === 2, 5000, 'both nodes to report');
    expect(await client.getResources()).toEqual({ '1_10': mine, '1_11': [[last]] });
    const text = await cox(['resources']);
    expect(text.stdout).toContain(`1_11    1        ${last}`);
    expect(JSON.parse((await cox(['resources', '--json'])).stdout)).toEqual({ '1_10': mine, '1_11': [[last]] });
  });

  it('cox start, ps, cancel-all: text and --json, and clear errors for bad arguments', async () => {
    const { client, work } = await setup([10]);
    const started = await cox(['start', '1_10', 'greeter', '--work-dir', work, '--env', 'WHO=world', '--', '/bin/sh', '-c', 'echo "hello $WHO"; sleep 30']);
    expect(started).toMatchObject({ code: 0, stdout: expect.stringMatching(/^started greeter on 1_10 \([0-9a-f-]{36}\)\n$/) });
    await waitUntil(() => readFileSync(join(work, 'greeter.out'), 'utf8') === 'hello world\n', 5000, 'the default stdout file');
    const json = await cox(['start', '1_10', 'second', '--work-dir', work, '--stdout', join(work, 'o'), '--stderr', join(work, 'e'), '--json', '--', 'sleep', '30']);
    expect(JSON.parse(json.stdout)).toMatchObject({ node: '1_10', name: 'second' });
    await waitUntil(async () => (await client.processes()).every((p) => p.state === 'running'), 5000, 'both running');
    expect((await cox(['ps'])).stdout).toMatch(/^\[node\] +\[name\] +\[state\] +\[exit\] +\[command\] +\[reason\]\n1_10 +second +running +- +sleep 30\n1_10 +greeter +running/);

    const errors: [string[], number, string][] = [
      [['start', '1_10', 'greeter', '--work-dir', work, '--', 'true'], 1, 'cox: a process named "greeter" is already running on node 1_10\n'],
      [['start', '1_99', 'x', '--work-dir', work, '--', 'true'], 1, 'cox: node 1_99 is not connected (connected nodes: 1_10)\n'],
      [['start', 'node10', 'x', '--work-dir', work, '--', 'true'], 2, 'cox: body.node: expected a node name <gid>_<nid> as cox sessions lists it, e.g. 1_10; got "node10"\n'],
      [['start', '1_10', 'x', '--work-dir', 'relative', '--', 'true'], 2, 'cox: body.work_dir: expected an absolute path on the node, got "relative"\n'],
      [['start', '1_10', 'x', '--work-dir', work, '--stdout', 'o.txt', '--', 'true'], 2, 'cox: body.stdout: expected an absolute path on the node, got "o.txt"\n'],
      [['start', '1_10', 'x', '--work-dir', work, '--env', 'NOEQUALS', '--', 'true'], 1, "error: option '--env <NAME=VALUE>' argument 'NOEQUALS' is invalid. --env takes NAME=VALUE, got \"NOEQUALS\"\n"],
    ];
    for (const [args, code, stderr] of errors) expect(await cox(args), args.join(' ')).toMatchObject({ code, stderr });
    expect((await cox(['start', '1_10', 'x', '--', 'true'])).stderr).toContain("required option '--work-dir <dir>' not specified");

    expect(JSON.parse((await cox(['cancel-all', '--json'])).stdout)).toEqual({ nodes: ['1_10'], withdrawn: 0 });
    await waitUntil(async () => (await client.processes()).every((p) => p.state === 'finished'), 5000, 'both cancelled');
    const ps = JSON.parse((await cox(['ps', '--json'])).stdout) as { name: string; exit_code: number }[];
    expect(ps.map((p) => [p.name, p.exit_code])).toEqual([['second', -15], ['greeter', -15]]);
    expect((await cox(['cancel-all'])).stdout).toBe('cancelling on 1_10; 0 not yet started withdrawn\n');
  });
});
