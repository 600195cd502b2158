import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Notifier } from '../../src/systemd/notify.js';
import { api, scfText, sleepers, startDaemon, type Daemon } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * A real AF_UNIX datagram socket standing in for systemd's: python3 binds it (a path, or an
 * abstract name given as `@name`) and prints each datagram as a JSON string on a line.
 */
const LISTENER = `
import json, socket, sys
name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + name[1:] if name.startswith('@') else name)
print('"listening"', flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

interface Listener {
  messages: string[];
  onMessage: (fn: (m: string) => void) => void;
}

const listeners: ChildProcess[] = [];
let d: Daemon | undefined;
afterEach(async () => {
  await d?.stop();
  d = undefined;
  for (const l of listeners.splice(0)) l.kill();
});

async function listen(name: string): Promise<Listener> {
  const proc = spawn('python3', ['-c', LISTENER, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  listeners.push(proc);
  const messages: string[] = [];
  const hooks: ((m: string) => void)[] = [];
  let buffered = '';
  let listening = false;
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk;
    for (let i = buffered.indexOf('\n'); i !== -1; i = buffered.indexOf('\n')) {
      const message = JSON.parse(buffered.slice(0, i)) as string;
      buffered = buffered.slice(i + 1);
      listening = true;
      // systemd-notify's BARRIER=1 (it waits until the manager has read what came before).
      if (message === 'listening' || message === 'BARRIER=1') continue;
      messages.push(message);
      for (const hook of hooks) hook(message);
    }
  });
  await waitUntil(() => listening || proc.exitCode !== null, 5_000, 'the listener');
  if (!listening) throw new Error(`python3 listener exited with ${proc.exitCode}`);
  return { messages, onMessage: (fn) => hooks.push(fn) };
}

describe('sd_notify to a real datagram socket', () => {
  it('sends to an abstract socket, and takes NOTIFY_SOCKET out of the environment children inherit', async () => {
    const name = `@cox-notify-${process.pid}-${Date.now()}`;
    const listener = await listen(name);
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: name };
    const notifier = Notifier.fromEnv(env);
    expect(env.NOTIFY_SOCKET).toBeUndefined();
    await notifier.notify('READY=1', 'STATUS=testing');
    await notifier.notify('STOPPING=1');
    await waitUntil(() => listener.messages.length === 2, 5_000, 'two messages');
    expect(listener.messages).toEqual(['READY=1\nSTATUS=testing', 'STOPPING=1']);
  });

  it('is a no-op outside systemd', async () => {
    await expect(Notifier.fromEnv({}).notify('READY=1')).resolves.toBeUndefined();
  });

  it('a host manager says READY only once its children are launched, and STOPPING when told to stop', async () => {
    const socket = join(mkdtempSync(join(tmpdir(), 'cox-notify-')), 'notify.sock');
    const logDir = mkdtempSync(join(tmpdir(), 'cox-notify-logs-'));
    const listener = await listen(socket);
    // What the children's log files held when READY arrived: the proof they were launched before.
    let atReady: string[] | null = null;
    listener.onMessage((m) => {
      if (m.startsWith('READY=1')) atReady = ['a', 'b'].map((id) => (existsSync(join(logDir, `${id}.log`)) ? readFileSync(join(logDir, `${id}.log`), 'utf8') : ''));
    });
    const scf = scfText(sleepers(['a', 'b'])).replace('log-dir: logs', `log-dir: ${JSON.stringify(logDir)}`);
    process.env.NOTIFY_SOCKET = socket;
    const starting = startDaemon(scf);
    delete process.env.NOTIFY_SOCKET;
    d = await starting;
    await waitUntil(() => atReady, 10_000, 'READY=1');
    for (const log of atReady!) expect(log).toMatch(/^--- coxswain .* launching: /);
    expect(listener.messages).toEqual(['READY=1\nSTATUS=supervising 2 children']);
    const { json: child } = await api(d, 'GET', '/api/children/a');
    expect(readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0')).not.toContainEqual(expect.stringMatching(/^NOTIFY_SOCKET=/));

    expect(await d.stop()).toBe(0);
    d = undefined;
    await waitUntil(() => listener.messages.length === 2, 5_000, 'STOPPING=1');
    expect(listener.messages[1]).toBe('STOPPING=1\nSTATUS=bringing every child down');
  });
});
