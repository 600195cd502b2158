/**
 * Streams against the real `cox controller`: a client's job calls and an agent's protocol over one
 * upgraded connection each, refused like the HTTP routes they stand in for, and a caller that
 * breaks the protocol costs only its own connection.
 */
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControllerClient as AgentTransport } from '../../src/agent/transport/controller-client.js';
import { ControllerClient } from '../../src/client/controller-client.js';
import { openStream } from '../../src/stream/open.js';
import { agentToml, runAgent, tempDir } from '../helpers/agent-harness.js';
import { makePki, type Pki } from '../helpers/controller-certs.js';
import { startController, type ControllerProcess } from '../helpers/controller.js';
import { waitUntil } from '../helpers/wait.js';

let c: ControllerProcess | undefined;
const clients: { close(): void }[] = [];
afterEach(async () => {
  for (const k of clients.splice(0)) k.close();
  await c?.stop();
  c = undefined;
});

function streamClient(opts: { token?: string } = {}): ControllerClient {
  const client = new ControllerClient({ url: c!.url, transport: 'stream', ...opts });
  clients.push(client);
  return client;
}

/** Writes `lines` on a raw upgraded connection and answers everything the controller sent back. */
async function rawExchange(lines: string, upgrade = 'cox-stream/1', path = '/api/stream'): Promise<string> {
  const { port } = new URL(c!.url);
  const s = net.connect(Number(port), '127.0.0.1');
  s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n${lines}`);
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => s.on('close', resolve));
  return out;
}

describe('client stream (real controller, real agent)', () => {
  it('submits, waits, gets and refuses over one connection, with the HTTP API\'s answers', async () => {
    c = await startController();
    const { lines } = runAgent(tempDir(), agentToml(c.url));
    const client = streamClient();
    await waitUntil(async () => Object.keys(await client.listSessions()).includes('1_10'), 10_000, 'the agent to connect');
    expect(lines.find((l) => l.msg === 'announced to the controller')).toMatchObject({ transport: 'stream', event: 'startup' });

    const done = await client.submit({ id: 'p1', cmd: 'ping', gid: 1, nid: 10, wait: 10 });
    expect([done.state, done.results[0]!.data]).toEqual(['SUCCESS', '"pong"']);
    expect((await client.get('p1')).state).toBe('SUCCESS');
    const [many] = await Promise.all([Promise.all(Array.from({ length: 50 }, (_, i) => client.submit({ id: `m${i}`, cmd: 'ping', roles: ['storage'], wait: 10 }))), client.wait('p1', 1)]);
    expect(many.map((v) => v.state)).toEqual(Array(50).fill('SUCCESS'));

    await expect(client.submit({ id: 'p1', cmd: 'ping', gid: 1, nid: 10 })).rejects.toMatchObject({ code: 'COX_DUPLICATE_ID', statusCode: 409 });
    await expect(client.submit({ cmd: 'ping' })).rejects.toMatchObject({ code: 'COX_BAD_REQUEST', message: 'body.nid: give nid (with gid) or roles' });
    await expect(client.get('nope')).rejects.toMatchObject({ code: 'COX_NOT_FOUND', statusCode: 404 });
    const noMatch = await client.submit({ cmd: 'ping', roles: ['gpu'] });
    expect([noMatch.state, noMatch.results[0]!.data]).toEqual(['ERROR', 'no matching connected agents']);
  });

  it('refuses the handshake without the token, and any upgrade or path it does not serve', async () => {
    c = await startController(['--token', 'tok']);
    await expect(streamClient().listSessions()).rejects.toMatchObject({ code: 'COX_UNAUTHORIZED', status: 401 });
    expect(await streamClient({ token: 'tok' }).listSessions()).toEqual({});
    await expect(openStream({ url: c.url, path: '/api/nope', headers: { authorization: 'Bearer tok' } })).rejects.toMatchObject({ code: 'COX_NOT_FOUND', status: 404 });
    expect(await rawExchange('', 'websocket')).toMatch(/^HTTP\/1.1 400 [^]*upgrade to \\"websocket\\" is not offered/);
  });

  it('answers the calls a caller made before its garbage line, then hangs up on it alone', async () => {
    c = await startController();
    const other = streamClient();
    expect(await other.listSessions()).toEqual({});
    const out = await rawExchange('{"id":1,"op":"sessions"}\n{"id":2,"op":"nope"}\n{"id":3,"op":"submit","body":{"cmd":"x","roles":"r"}}\nnot json\n{"id":4,"op":"sessions"}\n');
    const frames = out.split('\r\n\r\n')[1]!.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const byId = new Map(frames.filter((f) => 'id' in f).map((f) => [f.id, f]));
    expect(byId.get(1)).toEqual({ id: 1, body: {} });
    expect(byId.get(2)!.error).toMatchObject({ status: 404, code: 'COX_NOT_FOUND' });
    expect(byId.get(3)!.error).toMatchObject({ status: 400, message: expect.stringMatching(/^body\.roles/) });
    expect(byId.has(4)).toBe(false);
    expect(frames.at(-1)).toMatchObject({ error: { status: 400, message: expect.stringMatching(/not valid JSON/) } });
    expect(await other.listSessions()).toEqual({});
    expect(c.proc.exitCode).toBeNull();
  });
});

describe('agent stream with client certificates', () => {
  let pki: Pki;
  beforeAll(() => {
    pki = makePki();
    pki.client('1_10');
    pki.client('2_20');
  });
  afterAll(() => pki.cleanup());

  const transport = (gid: number, nid: number, cn: string) => {
    const file = (ext: string) => join(pki.dir, `client-${cn}.${ext}`);
    const t = new AgentTransport({ key: 'main', url: c!.url, transport: 'stream', tls: { cert: file('crt'), key: file('key'), ca: pki.files.ca } }, { gid, nid }, 1000);
    clients.push(t);
    return t;
  };

  it('takes a node only with the certificate that names it, and stays on the stream', async () => {
    c = await startController(['--tls-cert', pki.files.cert, '--tls-key', pki.files.key, '--tls-ca', pki.files.ca, '--require-client-cert']);
    const good = transport(1, 10, '1_10');
    expect(await good.poll(['storage'], 5, new AbortController().signal)).toEqual([]);
    expect(good.transport).toBe('stream');

    const impostor = transport(1, 10, '2_20');
    await expect(impostor.poll([], 1, new AbortController().signal)).rejects.toMatchObject({ code: 'COX_FORBIDDEN', status: 403 });
    expect(impostor.transport).toBe('stream');
    await expect(impostor.event({ name: 'startup' })).rejects.toMatchObject({ code: 'COX_FORBIDDEN' });
  });
});
