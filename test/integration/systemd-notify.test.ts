import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerClient } from '../../src/client/controller-client.js';
import { Notifier } from '../../src/systemd/notify.js';
import { startController } from '../helpers/controller.js';
import { api, COX, scfText, sleepers, startDaemon, type Daemon } from '../helpers/daemon.js';
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

  it('a controller says READY once it serves and STOPPING when told to stop; an agent says READY once started, and its jobs do not see the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cox-notify-'));
    const ctlListener = await listen(join(dir, 'controller.sock'));
    const c = await startController([], undefined, { NOTIFY_SOCKET: join(dir, 'controller.sock') });
    try {
      await waitUntil(() => ctlListener.messages.length > 0, 10_000, "the controller's READY=1");
      expect(ctlListener.messages).toEqual(['READY=1\nSTATUS=serving agents and clients']);

      const agentListener = await listen(join(dir, 'agent.sock'));
      writeFileSync(join(dir, 'agent.toml'), `[main]\ngid = 1\nnid = 10\nmessage_id_file = "./.mid"\nhistory_file = "./.history"\n\n[controllers.main]\nurl = "${c.url}"\n`);
      const agent = spawn(process.execPath, [COX, 'agent', '-c', 'agent.toml'], { cwd: dir, stdio: 'ignore', env: { ...process.env, NOTIFY_SOCKET: join(dir, 'agent.sock') } });
      listeners.push(agent);
      await waitUntil(() => agentListener.messages.length > 0, 10_000, "the agent's READY=1");
      expect(agentListener.messages).toEqual(['READY=1\nSTATUS=polling 1 controller(s)']);
      const client = new ControllerClient({ url: c.url });
      await waitUntil(async () => '1_10' in (await client.listSessions()), 10_000, 'the agent polling');
      const job = await client.submit({ cmd: 'execute', args: { name: 'sh', args: ['-c', 'echo "${NOTIFY_SOCKET:-none}"'] }, gid: 1, nid: 10, wait: 10 });
      expect([job.state, job.results[0]?.streams[0]]).toEqual(['SUCCESS', 'none\n']);
      const agentExit = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      expect(await agentExit).toBe(0);
      expect(agentListener.messages[1]).toBe('STOPPING=1\nSTATUS=finishing reports');
    } finally {
      expect(await c.stop()).toBe(0);
    }
    expect(ctlListener.messages[1]).toBe('STOPPING=1\nSTATUS=releasing polls and closing the store');
  });
});
