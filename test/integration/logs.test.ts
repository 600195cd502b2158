import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { HostManagerClient } from '../../src/client/hostmanager-client.js';
import { api, COX, scfText, startDaemon, type Daemon } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/wait.js';

const run = promisify(execFile);

/** A child that prints `<pid> tick <n>` every 25 ms, n counting from 0 in each run. */
function chatty(id: string): string {
  const script = "let i = 0; process.on('SIGTERM', () => process.exit(0)); setInterval(() => console.log(process.pid + ' tick ' + i++), 25)";
  return `{agent-class: Chatty, instance-id: ${id}, manage: host/up, command: ${JSON.stringify([process.execPath, '-e', script])}}`;
}

/** The runs in a stream of ticks: for each pid, its tick numbers in order of arrival. */
function runsOf(text: string): Map<string, number[]> {
  const runs = new Map<string, number[]>();
  for (const m of text.matchAll(/^(\d+) tick (\d+)$/gm)) runs.set(m[1]!, [...(runs.get(m[1]!) ?? []), Number(m[2])]);
  return runs;
}

let d: Daemon | undefined;
afterEach(async () => {
  await d?.stop();
  d = undefined;
});

describe('child logs on a real host manager', () => {
  it('follow streams a child across its restart and a rotation of its file, repeating nothing', async () => {
    d = await startDaemon(scfText([chatty('talk')]), ['--log-max-size', '2048', '--log-keep', '2']);
    const file = join(d.dir, 'logs', 'talk.log');
    await waitUntil(() => existsSync(file) && / tick 3$/m.test(readFileSync(file, 'utf8')), 10_000, 'first ticks');
    const stop = new AbortController();
    let text = '';
    const streaming = (async () => {
      for await (const chunk of new HostManagerClient({ url: d!.url }).follow('talk', 2, stop.signal)) text += chunk;
    })().catch((err: Error) => {
      if (err.name !== 'AbortError') throw err;
    });
    await waitUntil(() => runsOf(text).size === 1, 5_000, 'ticks in the stream');

    const { json: before } = await api(d, 'GET', '/api/children/talk');
    process.kill(before.pid, 'SIGKILL');
    await waitUntil(() => runsOf(text).size === 2, 10_000, 'ticks of the relaunched child');
    // The first rotation check runs 10 s after start; the file is past 2 KiB by then.
    await waitUntil(() => existsSync(`${file}.1`), 15_000, 'rotation');
    const last = readFileSync(file, 'utf8').trimEnd().split('\n').at(-1)!;
    await waitUntil(() => text.includes(`${last}\n`), 5_000, 'a line written after the rotation');
    stop.abort();
    await streaming;

    const runs = [...runsOf(text).values()];
    expect(runs).toHaveLength(2);
    expect(text).toMatch(/^--- coxswain .* launching: /m);
    for (const ticks of runs) {
      const steps = ticks.slice(1).map((t, i) => t - ticks[i]!);
      // Copy-then-truncate can lose what is written between its last read and the truncate.
      expect(steps.every((s) => s === 1 || s === 2)).toBe(true);
      expect(steps.filter((s) => s === 2).length).toBeLessThanOrEqual(1);
    }
    expect(runs[1]![0]).toBe(0);
    expect(existsSync(`${file}.3`)).toBe(false);
  });

  it('cox logs: -n N lines, -f until the host manager stops, which a follower does not hold up', async () => {
    d = await startDaemon(scfText([chatty('talk')]));
    const cox = (args: string[]) => run(process.execPath, [COX, 'logs', ...args, '--url', d!.url]);
    await waitUntil(async () => (await cox(['talk', '-n', '5'])).stdout.split('\n').length === 6, 10_000, 'five lines');
    const { stdout } = await cox(['talk', '-n', '3']);
    const ticks = [...stdout.matchAll(/tick (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ticks).toHaveLength(3);
    expect([ticks[1]! - ticks[0]!, ticks[2]! - ticks[1]!]).toEqual([1, 1]);
    expect((await cox(['talk', '-n', '0'])).stdout).toBe('');
    await expect(cox(['nope', '-f'])).rejects.toMatchObject({ code: 1, stderr: 'cox: child "nope" not found\n' });

    const res = await fetch(`${d.url}/api/children/talk/logs?lines=1&follow=true`);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    await res.body!.cancel();

    const follower = spawn(process.execPath, [COX, 'logs', 'talk', '-f', '-n', '1', '--url', d.url]);
    let out = '';
    let err = '';
    follower.stdout.on('data', (b) => (out += b));
    follower.stderr.on('data', (b) => (err += b));
    const exited = new Promise<number | null>((resolve) => follower.once('exit', resolve));
    await waitUntil(() => out.split('\n').length > 10, 5_000, 'ten streamed lines');
    const url = d.url;
    const started = Date.now();
    expect(await d.stop()).toBe(0);
    d = undefined;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await exited).toBe(1);
    expect(err).toBe(`cox: ${url}: the host manager closed the log stream\n`);
    const streamed = [...out.matchAll(/tick (\d+)$/gm)].map((m) => Number(m[1]));
    expect(streamed.slice(1).every((t, i) => t === streamed[i]! + 1)).toBe(true);
  });
});
