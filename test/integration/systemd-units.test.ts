import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { COX, scfText, sleepers } from '../helpers/daemon.js';

const run = promisify(execFile);

async function cox(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await run(process.execPath, [COX, 'install-systemd', ...args], { env: { ...process.env, ...env } })) };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** What `systemd-analyze verify` says about this unit file in particular (it also lints the host's units). */
async function verify(unit: string): Promise<{ code: number; complaints: string[] }> {
  const name = unit.split('/').at(-1)!;
  const about = (text: string) => text.split('\n').filter((l) => l.includes(name));
  try {
    const { stderr } = await run('systemd-analyze', ['verify', unit]);
    return { code: 0, complaints: about(stderr) };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, complaints: about(e.stderr) };
  }
}

function tempDirs() {
  const dir = mkdtempSync(join(tmpdir(), 'cox-units-'));
  const site = join(dir, 'site.yaml');
  const slow = '{agent-class: Sleeper, instance-id: slow, stop-timeout: 60}';
  writeFileSync(site, scfText([...sleepers(['a']), slow]));
  return { dir, site };
}

describe('cox install-systemd', () => {
  it('writes a host manager unit that systemd-analyze accepts, then leaves it alone unless forced', async () => {
    const { dir, site } = tempDirs();
    const unit = join(dir, 'coxswain-hostmanager.service');
    const args = ['--unit-dir', dir, '--site-file', site, '--site-host', 'testhost'];
    const first = await cox(args);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(`${unit}: written\nto start it now and at every boot:\n  systemctl daemon-reload && systemctl enable --now coxswain-hostmanager.service\n`);
    const text = readFileSync(unit, 'utf8');
    expect(text).toContain(`ExecStart=${process.execPath} --max-semi-space-size=2 ${COX} hostmanager --site-file ${site} --site-host testhost\n`);
    // The slow child's 60 s stop-timeout, plus the margin.
    expect(text).toContain('TimeoutStopSec=85\n');
    expect(await verify(unit)).toEqual({ code: 0, complaints: [] });

    expect((await cox(args)).stdout).toMatch(/: unchanged\n/);
    writeFileSync(unit, text.replace('RestartSec=5', 'RestartSec=1'));
    const refused = await cox(args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`cox: ${unit} exists with other content; not overwritten (use --force to replace it)\n`);
    expect(readFileSync(unit, 'utf8')).toContain('RestartSec=1');
    expect(JSON.parse((await cox([...args, '--force', '--json'])).stdout)).toMatchObject({ status: 'overwritten', path: unit });
    expect(readFileSync(unit, 'utf8')).toBe(text);
  });

  it('writes agent and controller units, with a user, that systemd-analyze accepts', async () => {
    const { dir } = tempDirs();
    const config = join(dir, 'agent.toml');
    writeFileSync(config, 'gid = 1\nnid = 1\n');
    expect((await cox(['--component', 'agent', '--config', config, '--user', 'coxswain', '--unit-dir', dir])).code).toBe(0);
    expect((await cox(['--component', 'controller', '--unit-dir', dir, '--', '--port', '8020'])).code).toBe(0);
    const agent = join(dir, 'coxswain-agent.service');
    const controller = join(dir, 'coxswain-controller.service');
    expect(readFileSync(agent, 'utf8')).toContain(` agent --config ${config}\nEnvironmentFile=-/etc/default/coxswain\nUser=coxswain\n`);
    expect(readFileSync(controller, 'utf8')).toContain(` controller --port 8020\n`);
    expect(await verify(agent)).toEqual({ code: 0, complaints: [] });
    expect(await verify(controller)).toEqual({ code: 0, complaints: [] });
  });

  it('refuses what the daemon would refuse at boot, naming the problem', async () => {
    const { dir, site } = tempDirs();
    writeFileSync(site, 'hosts: [');
    expect(await cox(['--unit-dir', dir, '--site-file', site])).toMatchObject({ code: 2, stderr: expect.stringContaining(site) });
    expect((await cox(['--component', 'agent', '--unit-dir', dir])).stderr).toBe('cox: --config <file> is required for --component agent\n');
    expect((await cox(['--component', 'controller', '--site-file', site, '--unit-dir', dir])).stderr).toBe('cox: --site-file is for --component hostmanager\n');
    expect((await cox(['--user', 'bad user', '--unit-dir', dir, '--site-file', site])).stderr).toBe('cox: --user: "bad user" is not a user name\n');
  });

  it("checks the daemon's own options with the daemon's parser, leaving the token to the environment file", async () => {
    const { dir } = tempDirs();
    const controller = (...extra: string[]) => cox(['--component', 'controller', '--unit-dir', dir, '--force', '--', ...extra]);
    expect(await controller('--bogus')).toMatchObject({ code: 2, stderr: "cox: controller: unknown option '--bogus'\n" });
    expect((await controller('--redis', 'redis://10.0.0.5', '--db', 'c.db')).stderr).toBe('cox: --redis and --db name two stores: give one (--redis also comes from COX_REDIS)\n');
    expect((await controller('--tls-cert', 'c.pem')).stderr).toBe('cox: --tls-cert and --tls-key go together\n');
    expect((await controller('--log-level', 'verbose')).stderr).toMatch(/^cox: controller: option '--log-level <level>' argument 'verbose' is invalid/);
    expect((await controller('--redis', 'redis://10.0.0.5/abc')).stderr).toBe('cox: --redis (or COX_REDIS): "redis://10.0.0.5/abc": database "abc" is not a number (0, 1, 2, …)\n');
    expect((await cox(['--unit-dir', dir, '--site-file', tempDirs().site, '--', '--log-level', 'loud'])).code).toBe(2);
    expect(existsSync(join(dir, 'coxswain-controller.service'))).toBe(false);
    // The unit does not get the installer's environment: its COX_REDIS does not clash with --db.
    expect(await cox(['--component', 'controller', '--unit-dir', dir, '--', '--db', '/var/lib/c.db'], { COX_REDIS: 'garbage' })).toMatchObject({ code: 0 });
    // Off loopback without --token: COX_TOKEN may be in /etc/default/coxswain, which the unit reads.
    expect(await controller('--address', '0.0.0.0', '--redis', 'redis://10.0.0.5')).toMatchObject({ code: 0 });
    expect(readFileSync(join(dir, 'coxswain-controller.service'), 'utf8')).toContain('controller --address 0.0.0.0 --redis redis://10.0.0.5\n');
  });
});
