import https from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgent } from '../helpers/controller-agent.js';
import { makePki, type Pki } from '../helpers/controller-certs.js';
import { startController, type ControllerProcess } from '../helpers/controller.js';

let pki: Pki;
let c: ControllerProcess | undefined;
let agents: FakeAgent[] = [];
beforeAll(() => {
  pki = makePki();
});
afterAll(() => pki.cleanup());
afterEach(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await c?.stop();
  agents = [];
  c = undefined;
});

const tlsFlags = () => ['--tls-cert', pki.files.cert, '--tls-key', pki.files.key, '--tls-ca', pki.files.ca];

function agent(gid: number, nid: number, opts: { cn?: string; token?: string; ca?: boolean } = {}): FakeAgent {
  const tls = opts.cn ? pki.client(opts.cn) : { ca: pki.ca };
  const a = new FakeAgent({ url: c!.url, gid, nid, ...(opts.token ? { token: opts.token } : {}), tls: tls as { cert: Buffer; key: Buffer; ca: Buffer } });
  agents.push(a);
  return a;
}

describe('controller mTLS (real process, real certificates)', () => {
  it('accepts an agent only on the paths of the node its certificate names, and none without one', async () => {
    c = await startController([...tlsFlags(), '--require-client-cert']);
    expect(c.url).toMatch(/^https:/);
    const good = agent(1, 10, { cn: '1_10' });
    expect(await good.poll(0)).toBeNull();
    expect(Object.keys((await good.request('GET', '/api/sessions')).json)).toEqual(['1_10']);
    const job = await good.request('POST', '/api/jobs', { cmd: 'execute', gid: 1, nid: 10 });
    const offer = (await good.poll(1))!;
    expect(offer.id).toBe(job.json.job.id);
    expect((await good.ack(offer)).status).toBe(200);
    expect((await good.result(offer)).status).toBe(200);

    const impostor = agent(1, 10, { cn: '2_20' });
    const refused = await impostor.request('GET', '/1/10/cmd?timeout=0');
    expect([refused.status, refused.json.code]).toEqual([403, 'COX_FORBIDDEN']);
    expect((await impostor.request('POST', '/1/10/result', {})).status).toBe(403);
    expect((await impostor.request('GET', '/%31/10/cmd?timeout=0')).status).toBe(403);
    expect((await good.request('GET', '/01/10/cmd?timeout=0')).status).toBe(204);
    expect((await impostor.request('GET', '/2/20/cmd?timeout=0')).status).toBe(204);

    // TLS 1.3 refuses after the client's half of the handshake, with the certificate_required alert.
    const refusedAtHandshake = { code: expect.stringMatching(/CERTIFICATE_REQUIRED|ECONNRESET/) };
    await expect(agent(1, 10).poll(0)).rejects.toMatchObject(refusedAtHandshake);
    await expect(
      new Promise((resolve, reject) => https.get(`${c!.url}/api/sessions`, { ca: pki.ca }, resolve).on('error', reject)),
    ).rejects.toMatchObject(refusedAtHandshake);
  });

  it('with optional client certificates, takes a certificate or the token from agents', async () => {
    c = await startController([...tlsFlags(), '--token', 'tok']);
    expect(await agent(1, 10, { cn: '1_10' }).poll(0)).toBeNull();
    expect((await agent(1, 11).request('GET', '/1/11/cmd?timeout=0')).status).toBe(401);
    expect(await agent(1, 11, { token: 'tok' }).poll(0)).toBeNull();
    expect((await agent(1, 10, { cn: '2_20', token: 'tok' }).request('GET', '/1/10/cmd?timeout=0')).status).toBe(403);
    const clientWithCertOnly = await agent(1, 10, { cn: '1_10' }).request('GET', '/api/sessions');
    expect(clientWithCertOnly.status).toBe(401);
    expect(Object.keys((await agent(0, 0, { token: 'tok' }).request('GET', '/api/sessions')).json)).toEqual(['1_10', '1_11']);
  });
});
