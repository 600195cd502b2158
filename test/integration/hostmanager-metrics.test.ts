import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { api, scfText, sleepers, startDaemon, type Daemon } from '../helpers/daemon.js';
import { FIXTURES } from '../helpers/instances.js';
import { waitUntil } from '../helpers/wait.js';

let d: Daemon | undefined;
afterEach(async () => {
  await d?.stop();
  d = undefined;
});

async function scrape(daemon: Daemon, headers: Record<string, string> = {}) {
  const res = await fetch(new URL('/metrics', daemon.url), { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** The value of the one series named exactly so (name and labels as rendered), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes until every series has the value wanted; returns that scrape's text. */
const scrapeUntil = (daemon: Daemon, want: Record<string, number>) =>
  waitUntil(async () => {
    const { text } = await scrape(daemon);
    return Object.entries(want).every(([series, value]) => sample(text, series) === value) ? text : null;
  }, 10_000, JSON.stringify(want));

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('host manager GET /metrics (real daemon, real children)', () => {
  it('shows each child up or down as it moves, and what it is wanted to be', async () => {
    d = await startDaemon(scfText([...sleepers(['a']), ...sleepers(['b'], 'host/down')]));
    const first = await scrape(d);
    expect([first.status, first.type]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    const text = await scrapeUntil(d, { 'coxswain_child_up{instance_id="a",agent_class="Sleeper",kind="native"}': 1 });
    expect(text).toContain(`coxswain_hostmanager_info{host="testhost",instance_id="hm-test",version="${VERSION}"} 1\n`);
    for (const line of [
      '# TYPE coxswain_child_up gauge',
      '# TYPE coxswain_child_crashes_total counter',
      'coxswain_manager_running 1',
      'coxswain_config_ok{file="[SCF]"} 1',
      'coxswain_child_up{instance_id="b",agent_class="Sleeper",kind="native"} 0',
      'coxswain_child_target_up{instance_id="a"} 1',
      'coxswain_child_target_up{instance_id="b"} 0',
      'coxswain_child_state{instance_id="a",state="up"} 1',
      'coxswain_child_state{instance_id="b",state="down"} 1',
      'coxswain_child_stability{instance_id="a"} 1',
      'coxswain_child_crashes_total{instance_id="a"} 0',
    ]) expect(text).toContain(`${line}\n`);
    expect(text.match(/^coxswain_child_state\{instance_id="a",/gm)).toHaveLength(1);

    expect((await api(d, 'POST', '/api/ops/update/start', { requests: [['a', 'down'], ['b', 'up']] })).json.code).toBe(0);
    // Up turns 0 as soon as the stop begins; down is the state once the process is gone.
    const after = await scrapeUntil(d, {
      'coxswain_child_up{instance_id="a",agent_class="Sleeper",kind="native"}': 0,
      'coxswain_child_state{instance_id="a",state="down"}': 1,
      'coxswain_child_up{instance_id="b",agent_class="Sleeper",kind="native"}': 1,
    });
    expect(sample(after, 'coxswain_child_target_up{instance_id="a"}')).toBe(0);
    expect(sample(after, 'coxswain_child_state{instance_id="a",state="up"}')).toBeUndefined();
  });

  it('counts crashes, lowers stability, and reports a site config that no longer parses', async () => {
    const crasher = `{agent-class: Crasher, instance-id: c, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FIXTURES + 'crasher.mjs')}, '1', '50'],
         restart: {stable-after: 10, backoff-base: 0.05, backoff-max: 0.2, jitter: 0}}`;
    d = await startDaemon(scfText([crasher]));
    const text = await waitUntil(async () => {
      const { text } = await scrape(d!);
      return (sample(text, 'coxswain_child_crashes_total{instance_id="c"}') ?? 0) >= 2 ? text : null;
    }, 10_000, 'two crashes of c');
    expect(sample(text, 'coxswain_child_stability{instance_id="c"}')).toBeLessThan(0.5);
    expect(sample(text, 'coxswain_child_target_up{instance_id="c"}')).toBe(1);

    writeFileSync(d.scf, 'hosts: [not, a, mapping\n');
    await scrapeUntil(d, { 'coxswain_config_ok{file="[SCF]"}': 0 });
  });

  it('is behind the token like every other route, by header or by query', async () => {
    d = await startDaemon(scfText(sleepers(['a'], 'host/down')), ['--token', 's3cret']);
    expect((await scrape(d)).status).toBe(401);
    expect((await scrape(d, { authorization: 'Bearer wrong' })).status).toBe(401);
    const ok = await scrape(d, { authorization: 'Bearer s3cret' });
    expect([ok.status, sample(ok.text, 'coxswain_child_up{instance_id="a",agent_class="Sleeper",kind="native"}')]).toEqual([200, 0]);
    expect((await fetch(new URL('/metrics?token=s3cret', d.url))).status).toBe(200);
  });
});
