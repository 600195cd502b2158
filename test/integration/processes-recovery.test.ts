/**
 * The exactly-once promise of get_finished under failure, with real daemons and processes: the
 * agent SIGKILLed and restarted, the controller SIGKILLed and restarted, and the agent cut off
 * from the controller (a TCP proxy that drops and refuses connections) for less and for more than
 * the TTL. Every started process must come out of get_finished once, and only once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerClient } from '../../src/client/controller-client.js';
import { EXIT_LOST } from '../../src/protocol/process.js';
import { runAgent, tempDir } from '../helpers/agent-harness.js';
import { startController, type ControllerProcess } from '../helpers/controller.js';
import { Collector, startCoxAgent, waitForNodes, type AgentProcess } from '../helpers/processes.js';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitUntil } from '../helpers/wait.js';

let controllers: ControllerProcess[] = [];
let agents: AgentProcess[] = [];
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGTERM')));
  await proxy?.close();
  for (const c of controllers.reverse()) await c.stop();
  controllers = [];
  agents = [];
  proxy = undefined;
});

async function controller(args: string[], dir?: string): Promise<ControllerProcess> {
  const c = await startController(args, dir);
  controllers.push(c);
  return c;
}

/** `echo up`, sleep, `echo bye`, exit: the files show from outside where a process is. */
function starter(client: ControllerClient, work: string) {
  return (node: string, name: string, sleepS: number, code: number) =>
    client.start(node, name, work, ['/bin/sh', '-c', `echo up; sleep ${sleepS}; echo bye; exit ${code}`], {}, join(work, `${name}.out`), join(work, `${name}.err`));
}
const said = (work: string, name: string, word: 'up' | 'bye') => () => existsSync(join(work, `${name}.out`)) && readFileSync(join(work, `${name}.out`), 'utf8').includes(word);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectEachOnce(collector: Collector, expected: Record<string, number>): void {
  expect(collector.names().sort()).toEqual(Object.keys(expected).sort());
  expect(Object.fromEntries(collector.seen.map((p) => [p.name, p.exit_code]))).toEqual(expected);
}

describe('get_finished exactly once under failure', () => {
  it('agent SIGKILLed and restarted: unreported ends are reported from its journal, survivors adopted, the rest lost', async () => {
    const c = await controller(['--ttl', '30']);
    proxy = await startProxy(c.url);
    const client = new ControllerClient({ url: c.url });
    const collector = new Collector(client);
    const dir = join(c.dir, 'agent');
    agents.push(startCoxAgent(dir, proxy.url, 10));
    await waitForNodes(client, ['1_10']);
    const work = tempDir('cox-work-');
    const start = starter(client, work);

    await start('1_10', 'reported', 0, 1);
    await collector.until(['reported']);
    await start('1_10', 'unreported', 0.3, 7);
    await start('1_10', 'unreported-too', 0.5, 0);
    await start('1_10', 'ends-while-down', 1.5, 5);
    await start('1_10', 'survives', 4, 9);
    for (const name of ['unreported', 'unreported-too', 'ends-while-down', 'survives']) await waitUntil(said(work, name, 'up'), 5000, `${name} up`);

    await proxy.cut();
    await waitUntil(said(work, 'unreported-too', 'bye'), 5000, 'the first two to end');
    // The agent journals an end as the exit event comes: give it that moment, then kill it.
    await pause(300);
    expect(await agents[0]!.kill('SIGKILL')).toBeNull();
    await waitUntil(said(work, 'ends-while-down', 'bye'), 5000, 'a process to end while the agent is down');
    await pause(200);
    await proxy.heal();
    agents.push(startCoxAgent(dir, proxy.url, 10));
    await waitUntil(() => agents[1]!.output().includes('adopted processes started before the agent restarted'), 10_000, 'the adoption');
    await start('1_10', 'after-restart', 0, 2);

    await collector.until(['reported', 'unreported', 'unreported-too', 'ends-while-down', 'survives', 'after-restart'], 20_000);
    expectEachOnce(collector, { reported: 1, unreported: 7, 'unreported-too': 0, 'ends-while-down': EXIT_LOST, survives: EXIT_LOST, 'after-restart': 2 });
    const reasons = Object.fromEntries(collector.seen.map((p) => [p.name, p.reason]));
    expect(reasons['ends-while-down']).toBe('ended while the agent was down; exit status unknown');
    expect(reasons.survives).toBe('the agent restarted while it ran; exit status unknown');
    // The adopted process ran to its end: it was not killed by the restart.
    expect(said(work, 'survives', 'bye')()).toBe(true);
  });

  it('controller SIGKILLed and restarted: ends reported while it was down, starts in flight, a get_finished in flight', async () => {
    // A start offered as the controller died is offered again after the ack timeout: keep it short.
    const first = await controller(['--ttl', '30', '--ack-timeout', '1']);
    const port = new URL(first.url).port;
    // In-process agents retry every 200 ms at most, so the test does not wait out a daemon's backoff.
    for (const nid of [10, 11]) runAgent(tempDir(), `[main]\ngid = 1\nnid = ${nid}\n\n[controllers.main]\nurl = "${first.url}"\n`);
    const client = new ControllerClient({ url: first.url });
    const collector = new Collector(client);
    await waitForNodes(client, ['1_10', '1_11']);
    const work = tempDir('cox-work-');
    const start = starter(client, work);
    const expected: Record<string, number> = {};
    for (let i = 0; i < 12; i++) {
      await start(`1_${10 + (i % 2)}`, `p${i}`, 0.15 * i, i);
      expected[`p${i}`] = i;
    }
    await collector.once(1);
    // Some starts are on the wire when the controller dies: a 201 means stored; an error, maybe not.
    const inFlight = Promise.allSettled(Array.from({ length: 6 }, (_, i) => start(`1_${10 + (i % 2)}`, `q${i}`, 0.2, 20 + i).then(() => `q${i}`)));
    const waiting = collector.once(10);
    await pause(20);
    expect(await first.kill('SIGKILL')).toBeNull();
    const accepted = (await inFlight).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    await pause(1500);

    await controller(['--ttl', '30', '--ack-timeout', '1', '--port', port], first.dir);
    await waiting;
    for (const name of accepted) expected[name] = 20 + Number(name.slice(1));
    await collector.until(Object.keys(expected), 30_000);
    // A start whose reply was lost may have been stored, and then it ran: it too comes once.
    const names = collector.names();
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => !(n in expected)).every((n) => /^q\d$/.test(n))).toBe(true);
    for (const p of collector.seen.filter((p) => p.name.startsWith('p'))) expect(p.exit_code).toBe(Number(p.name.slice(1)));
    // One caught by the kill may have had its acknowledgement stored and the reply lost: the agent
    // never ran it, says so when it reconnects, and it comes once, lost.
    for (const p of collector.seen.filter((p) => p.name.startsWith('q'))) expect([20 + Number(p.name.slice(1)), EXIT_LOST]).toContain(p.exit_code);
  });

  it('partition shorter than the TTL: ends made during it arrive once, with their real codes', async () => {
    const c = await controller(['--ttl', '3', '--poll-timeout', '1']);
    proxy = await startProxy(c.url);
    const client = new ControllerClient({ url: c.url });
    runAgent(tempDir(), `[main]\ngid = 1\nnid = 10\n\n[controllers.main]\nurl = "${proxy.url}"\n`);
    await waitForNodes(client, ['1_10']);
    const work = tempDir('cox-work-');
    const start = starter(client, work);
    await start('1_10', 'a', 0.2, 3);
    await start('1_10', 'b', 0.5, 4);
    await waitUntil(() => said(work, 'a', 'up')() && said(work, 'b', 'up')(), 5000, 'both up');
    await proxy.cut();
    await waitUntil(said(work, 'b', 'bye'), 5000, 'both to end during the partition');
    await pause(500);
    const collector = new Collector(client);
    expect(await collector.once()).toEqual([]);
    await proxy.heal();
    await collector.until(['a', 'b']);
    expectEachOnce(collector, { a: 3, b: 4 });
  });

  it('partition longer than the TTL: lost, handed out lost, and the real ends that follow are not handed out again', async () => {
    const c = await controller(['--ttl', '1.5', '--poll-timeout', '1']);
    proxy = await startProxy(c.url);
    const client = new ControllerClient({ url: c.url });
    const agent = runAgent(tempDir(), `[main]\ngid = 1\nnid = 10\n\n[controllers.main]\nurl = "${proxy.url}"\n`);
    await waitForNodes(client, ['1_10']);
    const work = tempDir('cox-work-');
    const start = starter(client, work);
    await start('1_10', 'ends-during', 0.3, 5);
    await start('1_10', 'ends-after', 4, 6);
    await waitUntil(() => said(work, 'ends-during', 'up')() && said(work, 'ends-after', 'up')(), 5000, 'both up');
    await proxy.cut();
    const collector = new Collector(client);
    const lost = await collector.until(['ends-during', 'ends-after'], 10_000);
    expect([...lost.values()].map((p) => [p.name, p.exit_code, p.reason]).sort()).toEqual([
      ['ends-after', EXIT_LOST, 'agent 1_10 lost: not seen within the TTL; exit status unknown'],
      ['ends-during', EXIT_LOST, 'agent 1_10 lost: not seen within the TTL; exit status unknown'],
    ]);
    expect(await client.listSessions()).toEqual({});

    await proxy.heal();
    await waitForNodes(client, ['1_10']);
    // The journal says when the controller took the real ends (appends only: no compaction here).
    const acked = () => readFileSync(join(agent.dir, 'processes.journal'), 'utf8').split('\n').filter(Boolean).flatMap((l) => (JSON.parse(l) as { acked?: string[] }).acked ?? []);
    await waitUntil(() => [...lost.values()].every((p) => acked().includes(p.id)), 10_000, 'both real ends reported and acknowledged');
    await start('1_10', 'after-heal', 0, 0);
    await collector.until(['after-heal']);
    await pause(500);
    await collector.once();
    expectEachOnce(collector, { 'ends-during': EXIT_LOST, 'ends-after': EXIT_LOST, 'after-heal': 0 });
    expect((await client.processes()).map((p) => [p.name, p.exit_code])).toEqual([['after-heal', 0], ['ends-after', EXIT_LOST], ['ends-during', EXIT_LOST]]);
  });
});
