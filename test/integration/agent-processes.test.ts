/** The agent's half of the process API against a stand-in controller: the commands, the reports, the announcements. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cpuCores } from '../../src/agent/processes/cpu-topology.js';
import { CANCEL_PROCESSES, START_PROCESS } from '../../src/protocol/process.js';
import { startFakeController, type FakeController } from '../helpers/agent-fake-controller.js';
import { agentToml, runAgent, tempDir } from '../helpers/agent-harness.js';
import { waitUntil } from '../helpers/wait.js';

let fake: FakeController;
beforeEach(async () => {
  fake = await startFakeController();
});
afterEach(async () => {
  await fake.close();
});

const spec = (work: string, name: string, args: string[]) => ({ name, work_dir: work, args, env: { WHO: 'agent' }, stdout: join(work, `${name}.out`), stderr: join(work, `${name}.err`) });

describe('agent named processes', () => {
  it('starts a process from start_process, answers its pid at once and reports its end on its own channel', async () => {
    const work = tempDir('cox-work-');
    runAgent(tempDir(), agentToml(fake.url));
    fake.offer({ id: 'p1', cmd: START_PROCESS, args: spec(work, 'greeter', ['/bin/sh', '-c', 'echo "hi $WHO"; exit 6']) });
    const started = await fake.final('p1');
    expect(started.state).toBe('SUCCESS');
    expect(JSON.parse(started.data)).toEqual({ pid: expect.any(Number) });
    await waitUntil(() => fake.exits.length === 1, 5000, 'the end');
    expect(fake.exits[0]).toMatchObject({ id: 'p1', name: 'greeter', exit_code: 6, reason: '' });
    expect(readFileSync(join(work, 'greeter.out'), 'utf8')).toBe('hi agent\n');
  });

  it('refuses start arguments it cannot use, naming the field', async () => {
    runAgent(tempDir(), agentToml(fake.url));
    fake.offer({ id: 'bad', cmd: START_PROCESS, args: { ...spec('/tmp', 'x', ['true']), stdout: 'relative' } });
    expect(await fake.final('bad')).toMatchObject({ state: 'ERROR', critical: 'args.stdout: expected an absolute path on the node, got "relative"' });
    fake.offer({ id: 'cancel', cmd: CANCEL_PROCESSES });
    expect(await fake.final('cancel')).toMatchObject({ state: 'SUCCESS', data: '{"cancelled":0}' });
  });

  it('announces its cores and the processes it knows, and again as `reconnect` after losing the controller', async () => {
    const work = tempDir('cox-work-');
    runAgent(tempDir(), agentToml(fake.url));
    fake.offer({ id: 'long', cmd: START_PROCESS, args: spec(work, 'long', ['sleep', '30']) });
    await fake.final('long');
    expect(fake.events[0]).toMatchObject({ name: 'startup', cores: cpuCores(), processes: [] });
    const port = Number(new URL(fake.url).port);
    await fake.close();
    fake = await startFakeController({ port });
    await waitUntil(() => fake.events.length > 0, 10_000, 'the announcement to the controller that came back');
    expect(fake.events[0]).toMatchObject({ name: 'reconnect', cores: cpuCores(), processes: ['long'] });
  });
});
