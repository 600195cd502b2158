/** How the agent reaches its controllers: mTLS, and reconnecting to one that was down. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type Pki } from '../helpers/agent-certs.js';
import { startFakeController, type FakeController } from '../helpers/agent-fake-controller.js';
import { agentToml, runAgent, tempDir } from '../helpers/agent-harness.js';
import { waitUntil } from '../helpers/wait.js';

let pki: Pki;
let fake: FakeController;
beforeAll(async () => {
  pki = makePki(tempDir('cox-pki-'));
  fake = await startFakeController({ tls: { ...pki.server, ca: readFileSync(pki.ca, 'utf8') } });
});
afterAll(async () => {
  await fake.close();
});

describe('agent reconnecting', () => {
  it('polls with backoff while the controller is down, then announces itself and takes jobs', async () => {
    const gone = await startFakeController();
    const port = Number(new URL(gone.url).port);
    await gone.close();
    const { lines } = runAgent(tempDir(), agentToml(gone.url));
    await waitUntil(() => lines.filter((l) => String(l.msg).startsWith('controller poll failed')).length >= 3, 5000, 'failed polls');
    const back = await startFakeController({ port });
    try {
      back.offer({ id: 'after-outage', cmd: 'ping' });
      expect((await back.final('after-outage')).state).toBe('SUCCESS');
      expect(back.events).toMatchObject([{ name: 'startup' }]);
      expect(lines.filter((l) => l.msg === 'controller poll failed')).toHaveLength(1);
      expect(lines.find((l) => l.msg === 'controller reachable again')).toMatchObject({ controller: 'main' });
    } finally {
      await back.close();
    }
  });
});

describe('agent transport', () => {
  it('speaks HTTP, request by request, to a controller that refuses the stream handshake', async () => {
    const plain = await startFakeController();
    try {
      const { lines } = runAgent(tempDir(), agentToml(plain.url));
      plain.offer({ id: 'over-http', cmd: 'ping' });
      expect((await plain.final('over-http')).state).toBe('SUCCESS');
      expect(lines.find((l) => l.msg === 'announced to the controller')).toMatchObject({ controller: 'main', transport: 'http', event: 'startup' });
      expect(lines.filter((l) => l.level === 40)).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});

describe('agent over mTLS', () => {
  it('presents its client certificate (CN <gid>_<nid>) and trusts the configured CA', async () => {
    const { cert, key } = pki.client('1_10');
    const security = `[controllers.main.security]\nclient_certificate = "${cert}"\nclient_certificate_key = "${key}"\ncertificate_authority = "${pki.ca}"\n`;
    runAgent(tempDir(), agentToml(fake.url) + security);
    fake.offer({ id: 'tls-ping', cmd: 'ping' });
    expect(await fake.final('tls-ping')).toMatchObject({ state: 'SUCCESS', data: '"pong"' });
    expect(new Set(fake.peers)).toEqual(new Set(['1_10']));
    expect(fake.refused).toEqual([]);
  });

  it('keeps retrying, without crashing, when the controller refuses it', async () => {
    const polls = fake.polls.length;
    const { lines } = runAgent(tempDir(), agentToml(fake.url) + `[controllers.main.security]\ncertificate_authority = "${pki.ca}"\n`);
    await waitUntil(() => lines.filter((l) => String(l.msg).startsWith('controller poll failed')).length >= 2, 5000, 'two failed polls');
    expect(lines.find((l) => l.msg === 'controller poll failed')).toMatchObject({ level: 40, controller: 'main' });
    expect(fake.polls.length).toBe(polls);
  });
});
