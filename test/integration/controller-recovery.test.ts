import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerClient } from '../../src/client/controller-client.js';
import { FakeAgent } from '../helpers/controller-agent.js';
import { startController, type ControllerProcess } from '../helpers/controller.js';
import { COX } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/wait.js';

const run = promisify(execFile);
let procs: ControllerProcess[] = [];
let agents: FakeAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  for (const p of procs.reverse()) await p.stop();
  procs = [];
  agents = [];
});

async function controller(args: string[], dir?: string) {
  const c = await startController(args, dir);
  procs.push(c);
  return { c, client: new ControllerClient({ url: c.url }) };
}

function agent(url: string, gid: number, nid: number): FakeAgent {
  const a = new FakeAgent({ url, gid, nid, roles: ['r'] });
  agents.push(a);
  return a;
}

describe('controller liveness and restarts (real process)', () => {
  it('drops a node silent for the TTL; its running job ends ERROR within the TTL, other nodes keep theirs', async () => {
    const { c, client } = await controller(['--ttl', '1.5', '--poll-timeout', '0.5']);
    const gone = agent(c.url, 1, 10).run(() => null);
    const stays = agent(c.url, 1, 11).run(() => null);
    const lost = await client.submit({ cmd: 'execute', gid: 1, nid: 10 });
    const kept = await client.submit({ cmd: 'execute', gid: 1, nid: 11 });
    await waitUntil(() => gone.acked.length === 1 && stays.acked.length === 1, 5000, 'both acknowledged');
    await gone.stop();
    const vanished = Date.now();
    const ended = await waitUntil(async () => {
      const v = await client.get(lost.job.id);
      return v.state === 'ERROR' ? v : null;
    }, 5000, 'the lost job to end');
    const took = Date.now() - vanished;
    expect(ended.results[0]!.data).toBe('agent 1_10 lost');
    // Unseen for the TTL, noticed by the next sweep (every TTL/4 here), plus slack for a loaded machine.
    expect(took).toBeLessThan(1500 + 375 + 500);
    expect(Object.keys(await client.listSessions())).toEqual(['1_11']);
    expect((await client.get(kept.job.id)).state).toBe('RUNNING');
  });

  it('SIGKILLed with 1,000 queued jobs, delivers every one exactly once after a restart', async () => {
    const first = await controller(['--ack-timeout', '2']);
    await agent(first.c.url, 1, 10).poll(0);
    const ids = Array.from({ length: 1000 }, (_, i) => `job-${i}`);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map((id) => first.client.submit({ cmd: 'execute', roles: ['r'], id })));
    }
    expect(await first.c.kill('SIGKILL')).toBeNull();

    const again = await controller(['--ack-timeout', '2'], first.c.dir);
    expect(Object.keys(await again.client.listSessions())).toEqual(['1_10']);
    const started = Date.now();
    const a = agent(again.c.url, 1, 10).run();
    await waitUntil(() => a.answered.length === 1000, 30_000, 'every result accepted');
    const drained = Date.now() - started;
    expect(await again.client.list({ state: 'SUCCESS', limit: 2000 })).toHaveLength(1000);
    console.log(`1,000 queued jobs drained after restart in ${drained} ms (${Math.round(1000 / (drained / 1000))} jobs/s, poll+ack+result each)`);
    expect(a.offers.map((o) => o.id).sort()).toEqual([...ids].sort());
    expect(a.acked).toHaveLength(1000);
    expect(a.offers.map((o) => o.id)).toEqual(ids);
  });

  it('stops promptly on SIGTERM, answering pending polls and waits', async () => {
    const { c, client } = await controller(['--poll-timeout', '60']);
    const a = agent(c.url, 1, 10);
    const poll = a.poll();
    await waitUntil(async () => '1_10' in (await client.listSessions()), 5000, 'poll');
    const job = await client.submit({ cmd: 'execute', roles: ['nobody-has-this', '*'], fanout: true });
    expect(job.state).toBe('ERROR');
    const t = Date.now();
    expect(await c.kill('SIGTERM')).toBe(0);
    expect(await poll).toBeNull();
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('refuses to listen off loopback without a token, naming the flag', async () => {
    const err = await run(process.execPath, [COX, 'controller', '--address', '0.0.0.0', '--port', '0', '--db', ':memory:']).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('--address 0.0.0.0 is not loopback: set --token');
  });
});
