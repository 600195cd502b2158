/**
 * Two real controllers on one real Redis, with the real agent: either controller serves any agent
 * or client, and a controller killed while it holds the agent's poll loses no job.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerClient } from '../../src/client/controller-client.js';
import { startController, type ControllerProcess } from '../helpers/controller.js';
import { makePki } from '../helpers/controller-certs.js';
import { COX } from '../helpers/daemon.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { waitUntil } from '../helpers/wait.js';

const run = promisify(execFile);
let redis: RedisServer | undefined;
let controllers: ControllerProcess[] = [];
let agents: { proc: ChildProcess; dir: string }[] = [];

afterEach(async () => {
  for (const { proc, dir } of agents) {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  for (const c of controllers) await c.stop();
  await redis?.stop();
  agents = [];
  controllers = [];
  redis = undefined;
});

async function controller(): Promise<{ c: ControllerProcess; client: ControllerClient }> {
  // A lease not acknowledged in 2 s is offered again: a dead controller's offers come back quickly.
  const c = await startController(['--redis', redis!.url, '--ack-timeout', '2']);
  controllers.push(c);
  return { c, client: new ControllerClient({ url: c.url }) };
}

/** The real `cox agent`, node 1_10 with role "demo", polling every controller named. */
function startAgent(dir: string, urls: Record<string, string>): ChildProcess {
  const toml = ['[main]', 'gid = 1', 'nid = 10', 'max_jobs = 2', 'message_id_file = "./.mid"', 'history_file = "./.history"', 'roles = ["demo"]', ''];
  for (const [name, url] of Object.entries(urls)) toml.push(`[controllers.${name}]`, `url = "${url}"`, '');
  writeFileSync(join(dir, 'agent.toml'), toml.join('\n'));
  const proc = spawn(process.execPath, [COX, 'agent', '-c', 'agent.toml'], { cwd: dir, stdio: 'ignore' });
  agents.push({ proc, dir });
  return proc;
}

/** A Redis, controllers A and B on it, and the agent 1_10 polling both, seen polling A. */
async function twoControllersOneAgent() {
  redis = await startRedis();
  const a = await controller();
  const b = await controller();
  const dir = mkdtempSync(join(tmpdir(), 'cox-agent-'));
  startAgent(dir, { a: a.c.url, b: b.c.url });
  await waitUntil(async () => '1_10' in (await a.client.listSessions()), 10_000, 'the agent polling');
  return { a, b, dir };
}

/** `execute` of a node one-liner. */
const node = (code: string) => ({ cmd: 'execute', args: { name: process.execPath, args: ['-e', code] } });

describe('controllers sharing one Redis (real processes)', () => {
  it('serves an agent polling A to clients of B: sessions, a job by role waited for, a job fetched from A, a named process collected once', async () => {
    redis = await startRedis();
    const a = await controller();
    const b = await controller();
    expect(a.c.output()).toContain(`"redis":"${redis.url}","redis_prefix":"cox:"`);
    startAgent(mkdtempSync(join(tmpdir(), 'cox-agent-')), { a: a.c.url });

    const sessions = await waitUntil(async () => {
      const s = await b.client.listSessions();
      return '1_10' in s ? s : null;
    }, 10_000, 'the agent polling A to be listed by B');
    expect(sessions['1_10']!.slice(1)).toEqual(['demo']);

    const waited = await b.client.submit({ ...node('console.log("hi")'), roles: ['demo'], wait: 10 });
    expect(waited.state).toBe('SUCCESS');
    expect(waited.results.map((r) => [`${r.gid}_${r.nid}`, r.state, r.streams[0]])).toEqual([['1_10', 'SUCCESS', 'hi\n']]);

    const later = await b.client.submit({ ...node('console.log("later")'), gid: 1, nid: 10 });
    expect((await a.client.get(later.job.id)).job).toEqual(later.job);
    const fetched = await a.client.wait(later.job.id, 10);
    expect([fetched.state, fetched.results.length, fetched.results[0]!.streams[0]]).toEqual(['SUCCESS', 1, 'later\n']);

    // A named process started through B runs on the agent polling A; B's held get_finished is
    // woken by the end A stored, and hands it out once, for both controllers.
    const work = mkdtempSync(join(tmpdir(), 'cox-work-'));
    const finished = b.client.getFinished({ wait: 10 });
    await b.client.start('1_10', 'three', work, ['/bin/sh', '-c', 'exit 3'], {}, join(work, 'out'), join(work, 'err'));
    expect(await finished).toEqual([['three', 3]]);
    expect(await a.client.getFinished()).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  it('SIGKILLed while holding the agent poll, A loses no job: pointed also at B, the agent runs each exactly once', async () => {
    redis = await startRedis();
    const a = await controller();
    const b = await controller();
    const dir = mkdtempSync(join(tmpdir(), 'cox-agent-'));
    const first = startAgent(dir, { a: a.c.url });
    await waitUntil(async () => '1_10' in (await b.client.listSessions()), 10_000, 'the agent polling A');

    // Frozen, the agent keeps its poll open at A and reads nothing: whatever A hands it is lost
    // with A, and so must come back through B.
    first.kill('SIGSTOP');
    const runs = join(dir, 'runs.log');
    const ids = Array.from({ length: 6 }, (_, i) => `queued-${i}`);
    for (const id of ids) {
      await b.client.submit({ ...node(`require("fs").appendFileSync(${JSON.stringify(runs)}, "${id}\\n"); console.log("${id}")`), id, gid: 1, nid: 10 });
    }
    // Time for A, woken through Redis, to offer the first to that poll; the others stay queued.
    await sleep(300);
    expect(await a.c.kill('SIGKILL')).toBeNull();
    for (const id of ids) expect((await b.client.get(id)).state).toBe('QUEUED');

    const gone = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await gone;
    startAgent(dir, { a: a.c.url, b: b.c.url });

    for (const id of ids) {
      const view = await b.client.wait(id, 15);
      expect([id, view.state, view.results.length, view.results[0]?.streams[0]]).toEqual([id, 'SUCCESS', 1, `${id}\n`]);
    }
    expect(readFileSync(runs, 'utf8').split('\n').filter(Boolean).sort()).toEqual(ids);
    expect((await b.client.list({ state: 'SUCCESS' })).map((j) => j.job.id).sort()).toEqual(ids);
  });

  it('A dies while the agent runs its job: the result, undeliverable to A, reaches B', async () => {
    const { a, b, dir } = await twoControllersOneAgent();
    // Its polls are open at both by now.
    await sleep(300);
    // Submitted through A, the job goes to the agent's poll waiting at A.
    const runs = join(dir, 'runs.log');
    const job = await a.client.submit({ ...node(`require("fs").appendFileSync(${JSON.stringify(runs)}, "x\\n"); setTimeout(() => console.log("done"), 1500)`), gid: 1, nid: 10 });
    await waitUntil(async () => (await b.client.get(job.job.id)).state === 'RUNNING', 10_000, 'the job to run');
    expect(await a.c.kill('SIGKILL')).toBeNull();
    // The agent retries A for ~16 s (its delivery backoff), then hands the result to B.
    const view = await b.client.wait(job.job.id, 40);
    expect([view.state, view.results.length, view.results[0]?.streams[0]]).toEqual(['SUCCESS', 1, 'done\n']);
    expect(readFileSync(runs, 'utf8')).toBe('x\n');
  }, 60_000);

  it('A dies while a named process started through it runs: its end, undeliverable to A, is handed out by B once, and A back takes it too', async () => {
    const { a, b, dir } = await twoControllersOneAgent();
    await sleep(300);
    // The agent owes a process's end to the controller whose poll brought its start: with B
    // frozen, that is A's.
    b.c.proc.kill('SIGSTOP');
    const journal = join(dir, 'processes.journal');
    let started;
    try {
      started = await a.client.start('1_10', 'orphan', dir, ['/bin/sh', '-c', 'sleep 3; exit 12'], {}, join(dir, 'out'), join(dir, 'err'));
      await waitUntil(() => existsSync(journal) && readFileSync(journal, 'utf8').includes('"name":"orphan","origin":"a"'), 10_000, 'the process to start, taken from A');
    } finally {
      b.c.proc.kill('SIGCONT');
    }
    expect(await a.c.kill('SIGKILL')).toBeNull();
    // The agent retries A for ~16 s, then offers the end to B, which shares A's store.
    expect(await b.client.getFinished({ wait: 30 })).toEqual([['orphan', 12]]);
    expect(await b.client.getFinished()).toEqual([]);
    expect((await b.client.processes()).map((p) => [p.name, p.state, p.exit_code])).toEqual([['orphan', 'finished', 12]]);

    // B's acknowledgement cannot tell the agent B stored the end (a controller with its own store
    // acknowledges unknown ids too), so the agent keeps it for A. A, back on its address, takes
    // it; the agent forgets it, and it is not handed out again.
    const back = await startController(['--redis', redis!.url, '--ack-timeout', '2', '--port', new URL(a.c.url).port]);
    controllers.push(back);
    await waitUntil(() => readFileSync(journal, 'utf8').includes(`{"acked":["${started.id}"]}`), 40_000, 'A to acknowledge the end');
    expect(await new ControllerClient({ url: back.url }).getFinished()).toEqual([]);
    expect(await b.client.getFinished()).toEqual([]);
  }, 90_000);

  it('reaches a Redis over TLS with a password, trusting a private CA from NODE_EXTRA_CA_CERTS, and says why it cannot otherwise', async () => {
    const pki = makePki();
    try {
      redis = await startRedis({ tls: { cert: pki.files.cert, key: pki.files.key, ca: pki.files.ca }, password: 's3cret' });
      const url = redis.tlsUrl!;
      const c = await startController(['--redis', url], undefined, { NODE_EXTRA_CA_CERTS: pki.files.ca });
      controllers.push(c);
      expect(c.output()).toContain('"redis":"rediss://:***@127.0.0.1:');
      const client = new ControllerClient({ url: c.url });
      const nowhere = await client.submit({ ...node('0'), gid: 1, nid: 99 });
      expect((await client.get(nowhere.job.id)).results[0]!.data).toBe('no matching connected agents');

      const fails = (u: string, env: NodeJS.ProcessEnv) =>
        run(process.execPath, [COX, 'controller', '--port', '0', '--redis', u], { timeout: 25_000, env: { ...process.env, ...env } }).catch((e: { code: number; stderr: string }) => e) as Promise<{ code: number; stderr: string }>;
      const untrusted = await fails(url, {});
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toContain('cannot connect: self-signed certificate in certificate chain');
      const wrong = await fails(url.replace('s3cret', 'guess'), { NODE_EXTRA_CA_CERTS: pki.files.ca });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('cannot connect: WRONGPASS');
      expect(wrong.stderr + untrusted.stderr).not.toMatch(/s3cret|guess/);
    } finally {
      pki.cleanup();
    }
  });

  it('answers /api/health with 503 COX_STORE_UNAVAILABLE while Redis is gone, so a load balancer skips it', async () => {
    redis = await startRedis();
    const a = await controller();
    const health = async () => {
      const res = await fetch(`${a.c.url}/api/health`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await health()).toEqual({ status: 200, body: { ok: true } });
    await redis.stop();
    redis = undefined;
    const started = Date.now();
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ code: 'COX_STORE_UNAVAILABLE', message: expect.stringContaining('the store is unavailable: Redis at unix://') });
    expect(Date.now() - started).toBeLessThan(10_000);
    // Well into an outage the client's reconnection backoff has grown: calls must still fail fast.
    await new Promise((r) => setTimeout(r, 6000));
    const later = Date.now();
    expect((await health()).status).toBe(503);
    expect(Date.now() - later).toBeLessThan(2500);
  });

  it('takes a password and a database over a unix socket, and stops on a database Redis does not have', async () => {
    redis = await startRedis({ password: 'pw one' });
    const c = await startController(['--redis', `${redis.url}?db=3&password=pw%20one`]);
    controllers.push(c);
    expect(c.output()).toContain('?db=3&password=***');
    expect(c.output()).not.toContain('pw%20one');
    const client = new ControllerClient({ url: c.url });
    expect((await client.submit({ ...node('0'), gid: 1, nid: 99 })).state).toBe('ERROR');
    const refused = await run(process.execPath, [COX, 'controller', '--port', '0', '--redis', `${redis.url}?db=99&password=pw%20one`], { timeout: 25_000 }).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot connect: database 99: ERR DB index is out of range') });
  });

  it('exits at once when Redis cannot be reached, naming it with the password masked', async () => {
    const missing = join(tmpdir(), `cox-no-redis-${process.pid}`, 'redis.sock');
    for (const [url, shown] of [
      [`unix://${missing}`, `unix://${missing}`],
      ['redis://ops:s3cret@127.0.0.1:1', 'redis://ops:***@127.0.0.1:1'],
    ] as const) {
      const started = Date.now();
      const err = await run(process.execPath, [COX, 'controller', '--port', '0', '--redis', url], { timeout: 25_000 }).catch((e: { code: number; stderr: string }) => e);
      expect(err).toMatchObject({ code: 1 });
      const { stderr } = err as { stderr: string };
      expect(stderr).toContain(shown);
      expect(stderr).not.toContain('s3cret');
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  it('refuses --redis with an explicit --db, and a URL that is not Redis or names no database, naming the flags', async () => {
    const refused = (args: string[]) => run(process.execPath, [COX, 'controller', '--port', '0', ...args]).catch((e: { code: number; stderr: string }) => e) as Promise<{ code: number; stderr: string }>;
    const both = await refused(['--redis', 'redis://127.0.0.1:6379', '--db', join(tmpdir(), 'never.db')]);
    expect(both).toMatchObject({ code: 2, stderr: 'cox: --redis and --db name two stores: give one (--redis also comes from COX_REDIS)\n' });
    const http = await refused(['--redis', 'http://127.0.0.1:6379']);
    expect(http).toMatchObject({ code: 2 });
    expect(http.stderr).toContain('--redis (or COX_REDIS): "http://127.0.0.1:6379": not a redis://, rediss:// or unix:// URL');
    const db = await refused(['--redis', 'redis://127.0.0.1:6379/abc']);
    expect(db).toMatchObject({ code: 2, stderr: 'cox: --redis (or COX_REDIS): "redis://127.0.0.1:6379/abc": database "abc" is not a number (0, 1, 2, …)\n' });
  });
});
