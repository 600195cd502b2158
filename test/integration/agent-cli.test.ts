/** `cox agent` as users run it: the built CLI, a real config file, signals and exit codes. */
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeController, type FakeController } from '../helpers/agent-fake-controller.js';
import { agentToml, tempDir } from '../helpers/agent-harness.js';
import { COX } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/wait.js';

let fake: FakeController;
beforeEach(async () => {
  fake = await startFakeController();
});
afterEach(async () => {
  await fake.close();
});

function coxAgent(dir: string, text: string) {
  writeFileSync(join(dir, 'agent.toml'), text);
  const proc = spawn(process.execPath, [COX, 'agent', '--config', 'agent.toml', '--log-level', 'warn'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, exited, stderr: () => stderr };
}

describe('cox agent', () => {
  it('stops at start on a malformed file, naming file, line and key, and writes nothing', async () => {
    const dir = tempDir();
    const run = coxAgent(dir, agentToml(fake.url).replace('nid = 10', 'nid = "ten"'));
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe('cox: agent.toml:3: main.nid: expected an integer\n');
    expect(readdirSync(dir)).toEqual(['agent.toml']);
  });

  it('SIGKILLed while a job runs, reports that job ERROR when it starts again, and answers a reused id DUPLICATE_ID', async () => {
    const dir = tempDir();
    const first = coxAgent(dir, agentToml(fake.url));
    fake.offer({ id: 'done-before', cmd: 'ping' });
    expect((await fake.final('done-before')).state).toBe('SUCCESS');
    // Short, so that the process the dead agent leaves behind soon ends by itself.
    fake.offer({ id: 'cut-short', cmd: 'execute', args: { name: 'sleep', args: ['2'] } });
    await waitUntil(() => fake.acks.some((a) => a.id === 'cut-short' && a.ok), 5000, 'the job to be taken');
    first.proc.kill('SIGKILL');
    await first.exited;
    expect(fake.results.has('cut-short')).toBe(false);

    const again = coxAgent(dir, agentToml(fake.url));
    const lost = await fake.final('cut-short');
    expect([lost.state, lost.critical]).toEqual(['ERROR', 'the agent stopped (killed or crashed) while this job ran; how it ended is unknown']);
    // The controller pruned the first done-before, and a client submitted the id again.
    fake.offer({ id: 'done-before', cmd: 'ping' });
    const dup = await fake.result('done-before', (r) => r.state !== 'SUCCESS');
    expect([dup.state, dup.critical]).toEqual(['DUPLICATE_ID', 'job id done-before was run by this agent before, and an agent never runs an id twice']);
    again.proc.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('runs jobs until SIGTERM, and exits 75 for its supervisor on a restart job', async () => {
    const dir = tempDir();
    const run = coxAgent(dir, agentToml(fake.url));
    fake.offer({ id: 'cli-ping', cmd: 'ping' });
    expect((await fake.final('cli-ping')).state).toBe('SUCCESS');
    run.proc.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    const again = coxAgent(dir, agentToml(fake.url));
    fake.offer({ id: 'cli-restart', cmd: 'restart' });
    expect((await fake.final('cli-restart')).state).toBe('SUCCESS');
    expect(await again.exited).toBe(75);
    // The message-id counter is reserved at start, so a file it cannot write stops it there.
    expect(readdirSync(dir).sort()).toEqual(['.history', '.mid', 'agent.toml']);
  });
});
