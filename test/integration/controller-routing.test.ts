import { afterEach, describe, expect, it } from 'vitest';
import { ControllerClient, type SubmitRequest } from '../../src/client/controller-client.js';
import { FakeAgent, type FakeAgentOptions } from '../helpers/controller-agent.js';
import { startController, type ControllerProcess } from '../helpers/controller.js';
import { waitUntil } from '../helpers/wait.js';

let c: ControllerProcess | undefined;
let agents: FakeAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await c?.stop();
  agents = [];
  c = undefined;
});

async function controller(args: string[] = []) {
  c = await startController(['--poll-timeout', '5', ...args]);
  return { c, client: new ControllerClient({ url: c.url }) };
}

function agent(opts: Omit<FakeAgentOptions, 'url'>): FakeAgent {
  const a = new FakeAgent({ url: c!.url, ...opts });
  agents.push(a);
  return a;
}

/** Each agent answers with its own name, so a result shows where the job ran. */
const byName = (a: FakeAgent) => () => ({ data: a.name });

describe('controller routing (real process, real HTTP)', () => {
  it('routes by gid+nid, by all roles, by *, fans out, and fails at once without a match', async () => {
    const { client } = await controller();
    const fleet = [agent({ gid: 1, nid: 10, roles: ['storage', 'db'] }), agent({ gid: 1, nid: 11, roles: ['storage'] }), agent({ gid: 2, nid: 10, roles: ['cpu'] })];
    for (const a of fleet) a.run(byName(a));
    await waitUntil(async () => Object.keys(await client.listSessions()).length === 3, 5000, 'three sessions');
    const ranOn = async (req: Omit<SubmitRequest, 'cmd'>) => (await client.submit({ cmd: 'execute', wait: 5, ...req })).results.map((r) => r.data);

    expect(await ranOn({ gid: 2, nid: 10 })).toEqual(['2_10']);
    expect(await ranOn({ gid: 1, nid: 10 })).toEqual(['1_10']);
    expect(await ranOn({ roles: ['storage', 'db'] })).toEqual(['1_10']);
    expect(await ranOn({ roles: ['cpu'] })).toEqual(['2_10']);
    expect(await ranOn({ roles: ['*', 'cpu'] })).toEqual(['2_10']);
    const fanout = await client.submit({ cmd: 'execute', roles: ['storage'], fanout: true, wait: 5 });
    expect(fanout.state).toBe('SUCCESS');
    expect(fanout.results.map((r) => [r.id, r.data])).toEqual([[fanout.job.id, '1_10'], [fanout.job.id, '1_11']]);
    expect((await ranOn({ roles: ['*'], fanout: true })).sort()).toEqual(['1_10', '1_11', '2_10']);

    for (const req of [{ roles: ['gpu'] }, { roles: ['storage', 'cpu'] }, { gid: 3, nid: 10 }]) {
      const none = await client.submit({ cmd: 'execute', ...req });
      expect(none.state, JSON.stringify(req)).toBe('ERROR');
      expect(none.results[0]!.data).toBe('no matching connected agents');
    }
  });

  it('gives a role job to the first available node: the poll that waited longest', async () => {
    const { client } = await controller();
    const early = agent({ gid: 1, nid: 11, roles: ['s'] });
    const late = agent({ gid: 1, nid: 10, roles: ['s', 'extra'] });
    const earlyPoll = early.poll();
    await waitUntil(async () => '1_11' in (await client.listSessions()), 5000, 'first poll');
    const latePoll = late.poll();
    await waitUntil(async () => '1_10' in (await client.listSessions()), 5000, 'second poll');
    const one = await client.submit({ cmd: 'execute', roles: ['s'] });
    const two = await client.submit({ cmd: 'execute', roles: ['s'] });
    expect([(await earlyPoll)!.id, (await latePoll)!.id]).toEqual([one.job.id, two.job.id]);
  });

  it('offers an unacknowledged job once more, in order and ahead of newer jobs, then ends it ERROR', async () => {
    const { client } = await controller(['--ack-timeout', '0.4']);
    const a = agent({ gid: 1, nid: 10 });
    await a.poll(0);
    for (const id of ['j1', 'j2']) await client.submit({ cmd: 'execute', gid: 1, nid: 10, id });
    const first = [(await a.poll(0))!, (await a.poll(0))!];
    await client.submit({ cmd: 'execute', gid: 1, nid: 10, id: 'j3' });
    await new Promise((r) => setTimeout(r, 700));
    const again = [(await a.poll(1))!, (await a.poll(1))!, (await a.poll(1))!];
    expect(again.map((o) => o.id)).toEqual(['j1', 'j2', 'j3']);
    const stale = await a.ack(first[0]!);
    expect([stale.status, stale.json.code]).toEqual([409, 'COX_LEASE_INVALID']);
    for (const o of again.slice(1)) expect((await a.ack(o)).status).toBe(200);
    const failed = await waitUntil(async () => {
      const v = await client.get('j1');
      return v.state === 'ERROR' ? v : null;
    }, 3000, 'j1 to fail');
    expect(failed.results[0]!.data).toBe('agent 1_10 did not acknowledge the job after 2 offers');
    expect(a.offers.filter((o) => o.id === 'j1')).toHaveLength(2);
    expect(await a.poll(0)).toBeNull();
    expect((await client.list({ state: 'RUNNING' })).map((j) => j.job.id)).toEqual(['j3', 'j2']);
  });

  it('refuses duplicate ids, bad requests, and results for jobs a node was not given', async () => {
    const { c: proc, client } = await controller();
    const a = agent({ gid: 1, nid: 10 });
    const b = agent({ gid: 1, nid: 11 });
    await Promise.all([a.poll(0), b.poll(0)]);
    await client.submit({ cmd: 'execute', gid: 1, nid: 10, id: 'mine' });
    await expect(client.submit({ cmd: 'execute', gid: 1, nid: 10, id: 'mine' })).rejects.toMatchObject({ code: 'COX_DUPLICATE_ID', statusCode: 409 });
    await expect(client.submit({ cmd: 'execute' })).rejects.toMatchObject({ code: 'COX_BAD_REQUEST', statusCode: 400 });
    const bad = await a.request('POST', '/1/10/result', { id: 'mine' });
    expect([bad.status, bad.json.message]).toEqual([400, 'body.gid: Invalid input: expected number, received undefined']);
    const notYours = await b.result({ id: 'mine', cmd: 'execute' });
    expect([notYours.status, notYours.json.code]).toEqual([404, 'COX_NOT_FOUND']);
    expect((await a.result({ id: 'ghost', cmd: 'execute' })).status).toBe(404);
    expect(proc.output()).toContain('result refused');
    const offer = (await a.poll(0))!;
    expect(offer.id).toBe('mine');
    expect((await a.ack(offer)).status).toBe(200);
  });

  it('kills a queued job at once and a running one through its agent', async () => {
    const { client } = await controller();
    const a = agent({ gid: 1, nid: 10 });
    await a.poll(0);
    const queued = await client.submit({ cmd: 'execute', gid: 1, nid: 10 });
    expect((await client.kill(queued.job.id)).state).toBe('KILLED');
    a.run((o) => (o.cmd === 'kill' ? { data: 'killed' } : null));
    const running = await client.submit({ cmd: 'execute', gid: 1, nid: 10 });
    await waitUntil(() => a.acked.includes(running.job.id), 5000, 'ack');
    expect((await client.kill(running.job.id)).state).toBe('RUNNING');
    const kill = await waitUntil(() => a.offers.find((o) => o.cmd === 'kill'), 5000, 'kill job');
    expect(kill.args).toMatchObject({ id: running.job.id });
    await a.result({ id: running.job.id, cmd: 'execute' }, { state: 'KILLED' });
    expect((await client.wait(running.job.id, 5)).state).toBe('KILLED');
  });
});
