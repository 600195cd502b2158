import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { api, COX, scfText, sleepers, startDaemon, type Daemon } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/wait.js';

const run = promisify(execFile);

/** A loopback port nothing listens on (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function cox(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [COX, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let d: Daemon | undefined;
let other: Daemon | undefined;
afterEach(async () => {
  await Promise.all([d?.stop(), other?.stop()]);
  d = undefined;
  other = undefined;
});

describe('cox CLI against a running host manager', () => {
  it('status prints one row per child, HostManager first, and --json the same data', async () => {
    d = await startDaemon(scfText([...sleepers(['a']), ...sleepers(['b'], 'host/down'), '{agent-class: Dock, instance-id: dk, manage: docker}']));
    const up = await cox(['up', 'a', '--wait', '--url', d.url]);
    expect(up.code).toBe(0);
    const text = await cox(['status', '--url', d.url]);
    expect(text.code).toBe(0);
    const rows = text.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    expect(rows[0]).toEqual(['testhost:']);
    expect(rows[1]).toEqual(['[instance-id]', '[agent-class]', '[state]', '[target]', '[note]']);
    expect(rows[2]!.slice(0, 3)).toEqual(['hm-test', 'HostManager', 'up']);
    expect(rows[3]).toEqual(['a', 'Sleeper', 'up', 'up']);
    expect(rows[4]).toEqual(['b', 'Sleeper', 'down', 'down', 'not started']);
    expect(rows[5]).toEqual(['dk', 'Dock[d?]', '?', 'up', 'docker-compose service "ocs-dk" not found: no compose file given (--docker-compose)']);
    const json = JSON.parse((await cox(['status', '--json', '--url', d.url])).stdout);
    expect(json.children.map((c: any) => [c.instance_id, c.next_action])).toEqual([['a', 'up'], ['b', 'down'], ['dk', '?']]);
  });

  it('up/down --wait follow progress and fail clearly for unknown or inoperable children', async () => {
    d = await startDaemon(scfText([...sleepers(['a', 'b'], 'host/down'), '{agent-class: Dock, instance-id: dk, manage: docker/down}']));
    const up = await cox(['up', 'a', 'b', '--wait', '--url', d.url]);
    expect(up.code).toBe(0);
    expect(up.stderr.trim().split('\n').at(-1)).toBe('2/2 up');
    const down = await cox(['down', '--all', '--wait', '--json', '--url', d.url]);
    expect(down.code).toBe(0);
    expect(JSON.parse(down.stdout)).toEqual({ done: ['a', 'b', 'dk'], pending: [], stuck: [] });
    const unknown = await cox(['up', 'zz', '--url', d.url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('cox: no host manager has "zz"\n');
    const stuck = await cox(['up', 'dk', '--wait', '--url', d.url]);
    expect(stuck.code).toBe(1);
    expect(stuck.stderr).toContain('cox: not operable, cannot come up: dk');
    expect((await cox(['up', '--url', d.url])).stderr).toBe('cox: name children to bring up, or use --all\n');
  });

  it('up <id> with the manager stopped starts it as ocsbow does, at the host manager whose site config has <id>', async () => {
    d = await startDaemon(scfText([...sleepers(['a']), ...sleepers(['b'], 'host/down'), ...sleepers(['off'], 'ignore')]));
    other = await startDaemon(scfText(sleepers(['x'], 'host/down')));
    await waitUntil(async () => (await api(d!, 'GET', '/api/children/a')).json.next_action === 'up', 10_000, 'a up');
    await api(d, 'POST', '/api/ops/manager/stop');
    const running = async () => (await api(d!, 'GET', '/api/children')).json.manager.running as boolean;
    await waitUntil(async () => !(await running()), 10_000, 'manager stopped');
    const urls = ['--url', d.url, other.url];

    const unknown = await cox(['up', 'zz', 'off', ...urls]);
    expect(unknown).toMatchObject({ code: 1, stderr: 'cox: no host manager has "zz", "off"\n' });
    expect(await running()).toBe(false);

    const up = await cox(['up', 'b', 'x', '--wait', ...urls]);
    expect(up.code).toBe(0);
    expect(up.stderr.trim().split('\n').at(-1)).toBe('2/2 up');
    const states = Object.fromEntries((await api(d, 'GET', '/api/children')).json.children.map((c: any) => [c.instance_id, c.next_action]));
    expect(states).toEqual({ a: 'down', b: 'up' });
  });

  it('refuses a --timeout that is not a whole number of seconds, naming the flag', async () => {
    for (const verb of ['up', 'down']) {
      const res = await cox([verb, 'a', '--wait', '--timeout', 'abc', '--url', `http://127.0.0.1:${await freePort()}`]);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain("option '--timeout <seconds>' argument 'abc' is invalid. --timeout takes a non-negative integer");
    }
  });

  it('logs says a child cannot be called . or .. instead of asking another route', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    for (const id of ['.', '..']) {
      expect(await cox(['logs', id, '--url', url])).toMatchObject({ code: 1, stderr: `cox: child "${id}" not found\n` });
      expect(await cox(['logs', id, '-f', '--url', url])).toMatchObject({ code: 1, stderr: `cox: child "${id}" not found\n` });
    }
  });

  it('logs prints the last lines of a child', async () => {
    d = await startDaemon(scfText(sleepers(['a'])));
    await cox(['up', 'a', '--wait', '--url', d.url]);
    const logs = await cox(['logs', 'a', '-n', '1', '--url', d.url]);
    expect(logs).toMatchObject({ code: 0, stdout: 'ready\n' });
  });

  it('says which host manager it cannot reach', async () => {
    const port = await freePort();
    const res = await cox(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`cox: http://127.0.0.1:${port}: unreachable (ECONNREFUSED)\n`);
  });

  it('refuses to start on a broken site config, naming file, line and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cox-bad-'));
    const file = join(dir, 'site.yaml');
    writeFileSync(file, scfText(['{agent-class: Sleeper, instance-id: a, arguments: {not: a list}}']));
    const res = await cox(['hostmanager', '--site-file', file, '--site-host', 'testhost', '--port', '0']);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(`cox: ${file}:9: hosts.testhost.agent-instances[1].arguments: expected a list\n`);
  });

  it('refuses to listen off loopback without a token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cox-open-'));
    const file = join(dir, 'site.yaml');
    writeFileSync(file, scfText([]));
    const res = await cox(['hostmanager', '--site-file', file, '--site-host', 'testhost', '--address', '0.0.0.0', '--port', '0']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--address 0\.0\.0\.0 is not loopback: set --token/);
  });
});
