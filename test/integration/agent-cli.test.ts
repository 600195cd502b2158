/** `cox agent` as users run it: the built CLI, a real config file, signals and exit codes. */
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeController, type FakeController } from '../helpers/agent-fake-controller.js';
import { agentToml, tempDir } from '../helpers/agent-harness.js';
import { COX } from '../helpers/daemon.js';

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
    expect(readdirSync(dir).sort()).toEqual(['.history', 'agent.toml']);
  });
});
