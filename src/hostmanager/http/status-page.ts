/**
 * The host manager's status page: one self-contained HTML document (inline CSS and script, nothing
 * fetched from elsewhere) that polls `GET /api/children` and flips children with the `update` op,
 * exactly as `cox up|down` does. Served by status-page-routes.ts with STATUS_PAGE_CSP.
 *
 * The script is plain browser JavaScript in a string, so it must not contain a backtick or `${`.
 * Every string from the API reaches the DOM through textContent or an attribute value, never as
 * markup; the CSP below would block an injected script anyway, but escaping must not depend on it.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #6e7781; --line: #d0d7de; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
header p { margin: 0 0 1rem; color: var(--muted); }
#alert { background: var(--bad); color: #fff; padding: .6rem .8rem; border-radius: 6px; margin-bottom: 1rem; font-weight: 600; }
.config { margin: 0 0 .5rem; }
.config pre { white-space: pre-wrap; margin: .25rem 0 0; padding: .5rem; border-left: 4px solid var(--bad); }
.config.warning pre { border-color: var(--warn); }
.config.error strong { color: var(--bad); }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
td.actions { white-space: nowrap; }
td.note { color: var(--muted); max-width: 30rem; }
td.state { font-weight: 600; }
[data-state="up"] td.state, #manager[data-state="up"] { color: var(--ok); }
[data-state="wait_start"] td.state, [data-state="wait_dead"] td.state { color: var(--warn); }
[data-state="start_at"] td.state, [data-state="?"] td.state, tr.unstable td.state, #manager[data-state="down"] { color: var(--bad); }
[data-state="down"] td.state, [data-state="stopped"] td.state { color: var(--muted); }
#stopped { font-weight: 600; margin: 0 0 .5rem; }
button { min-width: 4rem; margin-right: .25rem; }
button.current { font-weight: 700; }
body.stale table, body.stale .config, body.stale header p { opacity: .45; }
#action.failed { color: var(--bad); }
`;

const SCRIPT = `
'use strict';
(() => {
  const token = new URLSearchParams(location.search).get('token');
  const POLL_MS = 1000;
  // Faster while something is on its way somewhere, so transitions show as they happen.
  const BUSY_POLL_MS = 250;
  const REQUEST_TIMEOUT_MS = 5000;
  const UNSTABLE_AT = 0.5;
  const CELLS = ['id', 'class', 'kind', 'target', 'state', 'stability', 'pid', 'when', 'crashes', 'note'];
  const el = (id) => document.getElementById(id);
  const tbody = document.querySelector('#children tbody');
  const rows = new Map();
  const pendingTargets = new Map();
  let view = null;
  let lastGood = null;
  let configKey = '';
  let timer = 0;
  let polling = false;
  let pollAgain = false;
  let actions = Promise.resolve();

  async function request(method, path, body, timeoutMs) {
    const headers = {};
    if (token) headers.authorization = 'Bearer ' + token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs || REQUEST_TIMEOUT_MS),
    });
    const json = await res.json().catch(() => null);
    if (res.status === 401) throw Object.assign(new Error('open this page as /?token=<the token>'), { unauthorized: true });
    if (json === null || typeof json !== 'object') throw new Error(method + ' ' + path + ': HTTP ' + res.status);
    // An op's refusal (409 and the like) is an OCS reply with a numeric code, shown as such;
    // any other error is {code: 'COX_...', message}.
    if (!res.ok && typeof json.code !== 'number') throw new Error(json.message || 'HTTP ' + res.status);
    return json;
  }

  // What HostManagerClient.update does for cox up/down: through update while the manager runs,
  // otherwise by starting the manager with every other child down.
  async function update(requests) {
    const now = await request('GET', 'api/children');
    if (!now.manager.running) return request('POST', 'api/ops/manager/start', { requests: [['all', 'down']].concat(requests) });
    const started = await request('POST', 'api/ops/update/start', { requests, reload_config: false });
    if (started.code !== 0) return started;
    return request('POST', 'api/ops/update/wait', { timeout: 30 }, 35000);
  }

  function setTarget(id, target) {
    pendingTargets.set(id, target);
    say(id + ' \\u2192 ' + target + ' \\u2026', false);
    if (view) render(view);
    // One update at a time, as the host manager runs one: a second click waits for the first.
    actions = actions.then(async () => {
      try {
        const reply = await update([[id, target]]);
        const ok = reply.code === 0 && !(reply.session && reply.session.success === false);
        const last = reply.session && Array.isArray(reply.session.messages) ? reply.session.messages.map((m) => m[1]).slice(-2).join(' ') : '';
        say(id + ' \\u2192 ' + target + ': ' + (ok ? 'requested' : reply.message + (last ? ' ' + last : '')), !ok);
      } catch (err) {
        say(id + ' \\u2192 ' + target + ': ' + describe(err), true);
      } finally {
        pendingTargets.delete(id);
        refresh();
      }
    });
    refresh();
  }

  function say(text, failed) {
    el('action').textContent = text;
    el('action').classList.toggle('failed', failed);
  }

  function describe(err) {
    if (err && err.name === 'TimeoutError') return 'no answer within ' + REQUEST_TIMEOUT_MS / 1000 + ' s';
    if (err instanceof TypeError) return 'cannot connect (' + err.message + ')';
    return String(err && err.message ? err.message : err);
  }

  const time = (unixSeconds) => new Date(unixSeconds * 1000).toLocaleTimeString();
  const kind = (agentClass) => (agentClass === '[docker]' || /\\[d\\??\\]$/.test(agentClass) ? 'docker' : 'native');
  const set = (node, text) => { if (node.textContent !== text) node.textContent = text; };

  function rowFor(id) {
    let tr = rows.get(id);
    if (tr) return tr;
    tr = document.createElement('tr');
    tr.dataset.id = id;
    for (const name of CELLS) {
      const td = document.createElement('td');
      td.className = name;
      tr.appendChild(td);
    }
    const td = document.createElement('td');
    td.className = 'actions';
    for (const target of ['up', 'down']) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.target = target;
      b.textContent = target === 'up' ? 'Up' : 'Down';
      b.setAttribute('aria-label', b.textContent + ' ' + id);
      b.addEventListener('click', () => setTarget(id, target));
      td.appendChild(b);
    }
    tr.appendChild(td);
    rows.set(id, tr);
    return tr;
  }

  function renderChild(c, stale) {
    const tr = rowFor(c.instance_id);
    const cell = (name) => tr.querySelector('td.' + name);
    const unstable = c.stability <= UNSTABLE_AT;
    const pending = pendingTargets.get(c.instance_id);
    const passive = c.target_state === 'passive';
    tr.dataset.state = c.next_action;
    tr.classList.toggle('unstable', unstable);
    set(cell('id'), c.instance_id);
    set(cell('class'), c.agent_class);
    set(cell('kind'), kind(c.agent_class));
    set(cell('target'), pending ? '\\u2192 ' + pending : c.target_state);
    set(cell('state'), c.next_action + (unstable ? ' (unstable)' : ''));
    set(cell('stability'), c.stability.toFixed(2));
    set(cell('pid'), c.pid === null ? '' : String(c.pid));
    set(cell('when'), c.up_since !== null ? 'up since ' + time(c.up_since) : c.next_start_at !== null ? 'relaunch at ' + time(c.next_start_at) : '');
    set(cell('crashes'), String(c.crashes));
    const notes = [];
    if (c.next_action !== 'up' && c.reason) notes.push(c.reason);
    if (c.last_exit && c.next_action !== 'up' && !c.reason.includes(c.last_exit)) notes.push('last exit: ' + c.last_exit);
    if (c.restart_required) notes.push('restart required: its tag names a new image');
    set(cell('note'), notes.join(' \\u00b7 '));
    for (const b of tr.querySelectorAll('button')) {
      b.disabled = stale || passive || pending !== undefined;
      b.title = passive ? 'a compose service with no SCF entry: not managed' : '';
      b.classList.toggle('current', b.dataset.target === c.target_state);
    }
    return tr;
  }

  // A configured child while the manager is stopped: nothing supervises it, so nothing is known
  // of it but its id. Up and Down still work: update() starts the manager, as cox up/down do.
  function renderStopped(id, stale) {
    const tr = rowFor(id);
    const pending = pendingTargets.get(id);
    tr.dataset.state = 'stopped';
    tr.classList.remove('unstable');
    for (const name of CELLS) set(tr.querySelector('td.' + name), '');
    set(tr.querySelector('td.id'), id);
    set(tr.querySelector('td.target'), pending ? '\u2192 ' + pending : '');
    set(tr.querySelector('td.state'), 'not supervised');
    set(tr.querySelector('td.note'), 'manager stopped');
    for (const b of tr.querySelectorAll('button')) {
      b.disabled = stale || pending !== undefined;
      b.title = 'starts the manager with ' + id + ' ' + b.dataset.target + ' and every other child down';
      b.classList.remove('current');
    }
    return tr;
  }

  function renderConfig(status) {
    const key = JSON.stringify(status);
    if (key === configKey) return;
    configKey = key;
    const box = el('config');
    box.replaceChildren();
    for (const [file, [ok, at, message]] of Object.entries(status)) {
      const clean = ok && message.startsWith('OK');
      const p = document.createElement('div');
      p.className = 'config ' + (clean ? 'ok' : ok ? 'warning' : 'error');
      p.dataset.file = file;
      const name = document.createElement('strong');
      name.textContent = file;
      p.append(name, ': ' + (clean ? 'OK' : ok ? 'read with warnings' : 'does not parse; the last good version stays in force') + ' (read at ' + time(at) + ')');
      if (!clean) {
        const pre = document.createElement('pre');
        pre.textContent = message;
        p.appendChild(pre);
      }
      box.appendChild(p);
    }
  }

  function render(v) {
    const stale = document.body.classList.contains('stale');
    document.title = 'coxswain \\u00b7 ' + (v.host || '?');
    set(el('host'), v.host || '?');
    set(el('instance'), v.instance_id);
    const manager = el('manager');
    manager.dataset.state = v.manager.running ? 'up' : 'down';
    set(manager, v.manager.running ? 'running' : 'stopped (' + (v.manager.status || 'never started') + ')');
    renderConfig(v.config_parse_status);
    const seen = new Set();
    const place = (tr) => {
      const i = seen.size - 1;
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    };
    for (const c of v.children) {
      seen.add(c.instance_id);
      place(renderChild(c, stale));
    }
    // A stopped manager supervises nothing, yet its configured children can be started from here.
    if (!v.manager.running) {
      for (const id of v.configured || []) {
        if (seen.has(id)) continue;
        seen.add(id);
        place(renderStopped(id, stale));
      }
    }
    for (const [id, tr] of rows) if (!seen.has(id)) { tr.remove(); rows.delete(id); }
    el('stopped').hidden = v.manager.running;
    set(el('empty'), v.manager.running ? 'No children: this host has none in the site config.' : 'No children: this host has none in the site config, and the manager is stopped.');
    el('empty').hidden = seen.size > 0;
  }

  function showProblem(err) {
    const alert = el('alert');
    document.body.classList.toggle('stale', err !== null);
    alert.hidden = err === null;
    if (err === null) return;
    alert.textContent = (err.unauthorized ? 'Host manager refuses this page: ' : 'Host manager unreachable: ') + describe(err) +
      '. ' + (lastGood ? 'Showing what it said at ' + lastGood.toLocaleTimeString() + '.' : 'Nothing received yet.') + ' Retrying every second.';
  }

  const busy = () => pendingTargets.size > 0 || (view !== null && view.children.some((c) => c.next_action === 'wait_start' || c.next_action === 'wait_dead'));

  // At most one poll in flight; a refresh asked for meanwhile runs right after it.
  async function refresh() {
    clearTimeout(timer);
    if (polling) { pollAgain = true; return; }
    polling = true;
    try {
      view = await request('GET', 'api/children');
      lastGood = new Date();
      showProblem(null);
      render(view);
      set(el('updated'), 'updated ' + lastGood.toLocaleTimeString());
    } catch (err) {
      showProblem(err);
      if (view) render(view);
    } finally {
      polling = false;
    }
    if (pollAgain) { pollAgain = false; refresh(); return; }
    // A hidden tab stops polling; it catches up the moment it is shown again.
    if (!document.hidden) timer = setTimeout(refresh, busy() ? BUSY_POLL_MS : POLL_MS);
  }

  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  refresh();
})();
`;

const BODY = `<body>
<header>
<h1>coxswain host manager on <span id="host">\u2026</span></h1>
<p><span id="instance"></span> \u00b7 manager <span id="manager">\u2026</span> \u00b7 <span id="updated">connecting\u2026</span></p>
</header>
<div id="alert" role="alert" hidden></div>
<section id="config" aria-label="site config"></section>
<p id="stopped" hidden>The manager is stopped: no child is supervised. Up or Down on a row starts it, with that child up or down and every other child down, as cox up/cox down do.</p>
<table id="children">
<thead><tr><th>instance id</th><th>class</th><th>kind</th><th>target</th><th>state</th><th>stability</th><th>pid</th><th>since</th><th>crashes</th><th>note</th><th></th></tr></thead>
<tbody></tbody>
</table>
<p id="empty" hidden></p>
<p id="action" role="status" aria-live="polite"></p>
`;

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>coxswain host manager</title>
<style>${STYLE}</style>
</head>
${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Allows exactly this page's own style and script, and requests to its own origin only. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
