/**
 * The status page in a real browser (Debian's chromium, driven by playwright-core) against a real
 * host manager with real children: what an operator sees, and the Up/Down buttons.
 * A missing chromium fails this suite: scripts/test.sh installs it.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, scfText, sleepers, startDaemon, type Daemon } from '../helpers/daemon.js';
import { isAlive } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const WAIT = { timeout: 10_000, interval: 50 };

let browser: Browser;
let context: BrowserContext | undefined;
let d: Daemon | undefined;
/** Script errors and CSP refusals: either means the page is broken, whatever the table shows. */
let pageProblems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/test.sh installs it (apt-get install chromium)`);
  // Chromium refuses its sandbox to root, which CI runs as.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 20_000 });
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  await context?.close();
  await d?.stop();
  context = undefined;
  d = undefined;
});

async function open(url: URL): Promise<Page> {
  context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  pageProblems = [];
  page.on('pageerror', (err) => pageProblems.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/.test(msg.text())) pageProblems.push(msg.text());
  });
  const res = await page.goto(url.href);
  expect(res?.status()).toBe(200);
  return page;
}

const cell = (page: Page, id: string, name: string) => page.locator(`tr[data-id="${id}"] td.${name}`);
const text = (page: Page, selector: string) => page.locator(selector).innerText();
const states = (page: Page) =>
  page.locator('#children tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('td.id')!.textContent, tr.querySelector('td.state')!.textContent]));

async function child(d: Daemon, id: string, token?: string): Promise<any> {
  const res = await fetch(new URL(`/api/children/${id}`, d.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return res.json();
}

/** Clicks Down on `id`, sees it go down and its process end, then Up, and sees it back. */
async function flip(page: Page, id: string, token?: string): Promise<void> {
  const before = await child(d!, id, token);
  expect(isAlive(before.pid)).toBe(true);
  await expect.poll(() => cell(page, id, 'pid').innerText(), WAIT).toBe(String(before.pid));

  await page.getByRole('button', { name: `Down ${id}`, exact: true }).click();
  await expect.poll(() => cell(page, id, 'target').innerText(), WAIT).toBe('down');
  await expect.poll(() => cell(page, id, 'state').innerText(), WAIT).toBe('down');
  expect(await cell(page, id, 'pid').innerText()).toBe('');
  expect(isAlive(before.pid)).toBe(false);
  expect(await child(d!, id, token)).toMatchObject({ target_state: 'down', next_action: 'down', pid: null });
  await expect.poll(() => text(page, '#action'), WAIT).toBe(`${id} → down: requested`);

  await page.getByRole('button', { name: `Up ${id}`, exact: true }).click();
  await expect.poll(() => cell(page, id, 'state').innerText(), WAIT).toBe('up');
  const after = await child(d!, id, token);
  expect(after).toMatchObject({ target_state: 'up', next_action: 'up' });
  expect(after.pid).not.toBe(before.pid);
  expect(isAlive(after.pid)).toBe(true);
  await expect.poll(() => cell(page, id, 'pid').innerText(), WAIT).toBe(String(after.pid));
}

describe('status page in Chromium', () => {
  it('shows the host, the manager and every child, and flips a child down and up', async () => {
    d = await startDaemon(scfText([...sleepers(['a', 'b']), ...sleepers(['c'], 'host/down')]));
    const page = await open(new URL('/', d.url));

    await expect.poll(() => states(page), WAIT).toEqual([['a', 'up'], ['b', 'up'], ['c', 'down']]);
    expect(await text(page, '#host')).toBe('testhost');
    expect(await page.title()).toBe('coxswain · testhost');
    expect(await text(page, '#instance')).toBe('hm-test');
    expect(await text(page, '#manager')).toBe('running');
    expect(await text(page, '.config')).toMatch(/^\[SCF\]: OK \(read at /);
    expect(await cell(page, 'a', 'kind').innerText()).toBe('native');
    expect(await cell(page, 'a', 'class').innerText()).toBe('Sleeper');
    expect(await cell(page, 'a', 'stability').innerText()).toBe('1.00');
    expect(await cell(page, 'c', 'target').innerText()).toBe('down');

    await flip(page, 'a');
    expect(await cell(page, 'b', 'state').innerText()).toBe('up');
    expect(pageProblems).toEqual([]);
  });

  it('sends the token from ?token= on every call, and is refused without it', async () => {
    d = await startDaemon(scfText(sleepers(['a'])), ['--token', 's3cret']);
    context = await browser.newContext();
    const refused = await (await context.newPage()).goto(new URL('/', d.url).href);
    expect(refused?.status()).toBe(401);
    await context.close();

    const page = await open(new URL('/?token=s3cret', d.url));
    await expect.poll(() => states(page), WAIT).toEqual([['a', 'up']]);
    await flip(page, 'a', 's3cret');
    expect(pageProblems).toEqual([]);
  });

  it('shows a broken site config with its error, and says when the host manager is gone', async () => {
    d = await startDaemon(scfText(sleepers(['a'])));
    const page = await open(new URL('/', d.url));
    await expect.poll(() => states(page), WAIT).toEqual([['a', 'up']]);

    writeFileSync(d.scf, 'hosts:\n  testhost: [\n');
    await expect.poll(() => text(page, '.config.error'), WAIT).toMatch(/^\[SCF\]: does not parse; the last good version stays in force/);
    expect(await text(page, '.config.error pre')).toMatch(/site\.yaml:\d+/);
    expect(await states(page)).toEqual([['a', 'up']]);

    expect(await page.locator('#alert').isHidden()).toBe(true);
    await d.stop();
    d = undefined;
    await expect.poll(() => page.locator('#alert').isVisible(), WAIT).toBe(true);
    expect(await text(page, '#alert')).toMatch(/^Host manager unreachable: .* Showing what it said at /);
    expect(await page.getByRole('button', { name: 'Down a', exact: true }).isDisabled()).toBe(true);
    expect(pageProblems).toEqual([]);
  });

  it('lists the configured children while the manager is stopped, and Up on one starts the manager with it up', async () => {
    d = await startDaemon(scfText([...sleepers(['a', 'b']), ...sleepers(['c'], 'host/down'), ...sleepers(['off'], 'ignore')]));
    const page = await open(new URL('/', d.url));
    await expect.poll(() => states(page), WAIT).toEqual([['a', 'up'], ['b', 'up'], ['c', 'down']]);
    expect(await page.locator('#stopped').isHidden()).toBe(true);
    const a = await child(d, 'a');

    expect((await api(d, 'POST', '/api/ops/manager/stop')).json.code).toBe(0);
    await expect.poll(() => states(page), WAIT).toEqual([['a', 'not supervised'], ['b', 'not supervised'], ['c', 'not supervised']]);
    expect(isAlive(a.pid)).toBe(false);
    expect(await text(page, '#manager')).toMatch(/^stopped \(/);
    expect(await text(page, '#stopped')).toBe(
      'The manager is stopped: no child is supervised. Up or Down on a row starts it, with that child up or down and every other child down, as cox up/cox down do.',
    );
    expect(await page.locator('#empty').isHidden()).toBe(true);
    const row = (id: string) =>
      page.locator(`tr[data-id="${id}"] td`).evaluateAll((tds) => tds.slice(0, -1).map((td) => td.textContent));
    for (const id of ['a', 'b', 'c']) {
      expect(await row(id)).toEqual([id, '', '', '', 'not supervised', '', '', '', '', 'manager stopped']);
      expect(await page.getByRole('button', { name: `Up ${id}`, exact: true }).isEnabled()).toBe(true);
      expect(await page.getByRole('button', { name: `Down ${id}`, exact: true }).isEnabled()).toBe(true);
    }

    // c is host/down: Up is what starts it, with the manager, and every other child down (as cox up c).
    await page.getByRole('button', { name: 'Up c', exact: true }).click();
    await expect.poll(() => cell(page, 'c', 'state').innerText(), WAIT).toBe('up');
    await expect.poll(() => text(page, '#action'), WAIT).toBe('c → up: requested');
    const view = (await api(d, 'GET', '/api/children')).json;
    expect(view.manager.running).toBe(true);
    expect(Object.fromEntries(view.children.map((c: any) => [c.instance_id, [c.target_state, c.next_action]]))).toEqual({
      a: ['down', 'down'],
      b: ['down', 'down'],
      c: ['up', 'up'],
    });
    const c = await child(d, 'c');
    expect(isAlive(c.pid)).toBe(true);
    await expect.poll(() => states(page), WAIT).toEqual([['a', 'down'], ['b', 'down'], ['c', 'up']]);
    expect(await text(page, '#manager')).toBe('running');
    expect(await page.locator('#stopped').isHidden()).toBe(true);
    expect(await row('c')).toEqual(['c', 'Sleeper', 'native', 'up', 'up', '1.00', String(c.pid), expect.stringMatching(/^up since /), '0', '']);
    expect(await cell(page, 'a', 'note').innerText()).not.toContain('manager stopped');
    expect(pageProblems).toEqual([]);
  });

  it('puts strings from the API into the page as text, never as markup', async () => {
    const evil = '<img src=x onerror="document.title=1">';
    d = await startDaemon(scfText([`{agent-class: Evil, instance-id: evil, command: ['${evil}']}`]));
    const page = await open(new URL('/', d.url));
    await expect.poll(() => cell(page, 'evil', 'note').innerText(), WAIT).toContain(evil);
    expect(await page.locator('img').count()).toBe(0);
    expect(pageProblems).toEqual([]);
  });
});
