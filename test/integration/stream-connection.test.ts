/** StreamConnection over a real loopback TCP connection: concurrent calls, cancels, timeouts, hang-ups. */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Errors } from '../../src/shared/errors.js';
import { StreamChannel } from '../../src/stream/channel.js';
import { StreamConnection, type StreamHandler } from '../../src/stream/connection.js';

const open: StreamConnection[] = [];
let server: net.Server | undefined;
afterEach(async () => {
  for (const c of open.splice(0)) c.destroy();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/**
 * A server side answering with `handler`, and a caller connected to it. `allowHalfOpen` as the
 * controller's HTTP server has it (streams are upgraded HTTP connections): a caller's FIN leaves
 * the server's side open for its answers.
 */
async function pair(handler: StreamHandler, allowHalfOpen = false): Promise<{ caller: StreamConnection; served: Promise<StreamConnection> }> {
  let accept!: (c: StreamConnection) => void;
  const served = new Promise<StreamConnection>((resolve) => (accept = resolve));
  server = net.createServer({ allowHalfOpen }, (socket) => {
    const c = new StreamConnection(socket, { label: 'caller', handler });
    open.push(c);
    accept(c);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const caller = new StreamConnection(socket, { label: 'server' });
  open.push(caller);
  return { caller, served };
}

describe('StreamConnection', () => {
  it('answers many calls in flight at once, each with its own answer, in whatever order they end', async () => {
    const { caller } = await pair(async (op, body) => {
      const n = body as number;
      if (op === 'fail') throw Errors.DUPLICATE_ID(String(n));
      await new Promise((r) => setTimeout(r, 20 - n));
      return n * 2;
    });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => caller.call('double', i)));
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    await expect(caller.call('fail', 7)).rejects.toMatchObject({ code: 'COX_DUPLICATE_ID', status: 409, message: 'job id "7" already exists' });
  });

  it('hides a fault of the answering side behind COX_INTERNAL', async () => {
    const { caller } = await pair(async () => {
      throw new Error('secret detail');
    });
    await expect(caller.call('x')).rejects.toMatchObject({ code: 'COX_INTERNAL', status: 500, message: 'internal error' });
  });

  it('tells the answering side when the caller gives up (abort or timeout), and drops a late answer', async () => {
    const aborted: string[] = [];
    const { caller } = await pair(
      (op, _body, signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => aborted.push(op));
          setTimeout(() => resolve('late'), 300);
        }),
    );
    const ac = new AbortController();
    const byAbort = caller.call('wait-a', undefined, { signal: ac.signal });
    ac.abort(new Error('no longer needed'));
    await expect(byAbort).rejects.toThrow('no longer needed');
    await expect(caller.call('wait-t', undefined, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'COX_UNREACHABLE', message: expect.stringContaining('no answer to wait-t within 50 ms') });
    await new Promise((r) => setTimeout(r, 50));
    expect(aborted.sort()).toEqual(['wait-a', 'wait-t']);
    expect(await caller.call('then', undefined)).toBe('late');
  });

  it('fails the calls in flight when the other side goes away, and aborts what it was serving', async () => {
    let servingAborted = false;
    let started!: () => void;
    const serving = new Promise<void>((resolve) => (started = resolve));
    const { caller, served } = await pair((_op, _body, signal) => {
      started();
      return new Promise(() => signal.addEventListener('abort', () => (servingAborted = true)));
    });
    const pending = caller.call('forever');
    await serving;
    (await served).destroy();
    await expect(pending).rejects.toMatchObject({ code: 'COX_UNREACHABLE' });
    await expect(caller.call('after')).rejects.toMatchObject({ code: 'COX_UNREACHABLE' });
    expect(servingAborted).toBe(true);
    expect(caller.isClosed).toBe(true);
  });

  it('stops waiting on behalf of a caller that ended its side (a process that died), and still answers it', async () => {
    let served!: (signal: AbortSignal) => void;
    const waiting = new Promise<AbortSignal>((resolve) => (served = resolve));
    const { caller } = await pair((_op, _body, signal) => {
      served(signal);
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve('stopped waiting')));
    }, true);
    const answer = caller.call('long-poll');
    const signal = await waiting;
    caller.close();
    await expect(answer).resolves.toBe('stopped waiting');
    expect(signal.aborted).toBe(true);
  });

  it('refuses calls when it has no handler', async () => {
    const { caller, served } = await pair(async () => 'x');
    const server = await served;
    await expect(server.call('back')).rejects.toMatchObject({ code: 'COX_NOT_FOUND', message: 'operation "back" (this side answers no calls) not found' });
    expect(await caller.call('ok')).toBe('x');
  });
});

describe('StreamChannel', () => {
  it('opens a new connection for the next call after one went unanswered past its timeout', async () => {
    const accepted: net.Socket[] = [];
    server = net.createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const channel = new StreamChannel({
      label: 'silent',
      open: () =>
        new Promise((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', () => resolve(s));
          s.once('error', reject);
        }),
    });
    try {
      await expect(channel.call('x', undefined, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'COX_UNREACHABLE', message: expect.stringContaining('no answer to x within 50 ms') });
      await expect(channel.call('y', undefined, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'COX_UNREACHABLE' });
      expect(accepted).toHaveLength(2);
    } finally {
      channel.close();
      for (const s of accepted) s.destroy();
    }
  });
});

describe('StreamConnection backpressure', () => {
  it('stops reading from a caller that does not read its answers, and answers everything once it does', async () => {
    let served = 0;
    await pair(async () => {
      served++;
      return 'x'.repeat(1000);
    });
    const { port } = server!.address() as net.AddressInfo;
    // A raw caller: writes 20,000 calls without reading a byte of the answers.
    const raw = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => raw.once('connect', resolve));
    raw.pause();
    const calls = 20_000;
    for (let id = 1; id <= calls; id++) raw.write(`{"id":${id},"op":"big"}\n`);
    // The server answers until its socket's buffers fill (20 MB of answers would), then reads no
    // more calls: the count stops moving, well short of all of them.
    await new Promise((r) => setTimeout(r, 500));
    const servedWhileBlocked = served;
    await new Promise((r) => setTimeout(r, 300));
    expect(served).toBe(servedWhileBlocked);
    expect(servedWhileBlocked).toBeLessThan(calls / 2);
    let text = '';
    raw.on('data', (d: Buffer) => (text += d.toString()));
    raw.resume();
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`only ${text.split('\n').length - 1} answers`)), 20_000);
      const check = () => {
        if (text.split('\n').length - 1 >= calls) {
          clearTimeout(deadline);
          resolve();
        } else setTimeout(check, 50);
      };
      check();
    });
    const ids = new Set(text.trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id));
    expect(ids.size).toBe(calls);
    expect(served).toBe(calls);
    raw.destroy();
  });
});
