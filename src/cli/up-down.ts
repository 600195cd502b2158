/**
 * `cox up|down [--all] [id ...] [--wait]`: sets target states through `update`, as ocsbow does,
 * sending each id to the host manager that has it; with `--wait`, follows progress until every
 * named child got there.
 */
import { Command } from 'commander';
import type { ChildrenView, HostManagerClient } from '../client/hostmanager-client.js';
import { clientFor, connectionOptions, fail, withConnectionOptions, type ConnectionOptions } from './connection.js';
import { integer } from './controller.js';
import { describeProgress, progress, type Progress } from './wait-progress.js';

export function upDownCommand(target: 'up' | 'down'): Command {
  return withConnectionOptions(new Command(target))
    .description(`set the target of children to ${target}`)
    .argument('[instance-id...]', 'children to change')
    .option('--all', 'every child of every host manager given', false)
    .option('--wait', `wait until they are ${target}, showing progress`, false)
    .option('--timeout <seconds>', 'give up waiting after this long', integer('--timeout'), 60)
    .action(async (ids: string[], opts: { all: boolean; wait: boolean; timeout: number }, cmd: Command) => {
      if (!opts.all && ids.length === 0) return fail(`name children to bring ${target}, or use --all`);
      const conn = connectionOptions(cmd);
      const hosts = await Promise.all(conn.url.map(async (url) => ({ url, client: clientFor(url, conn), view: await clientFor(url, conn).children() })));
      const plan = hosts
        .map((h) => ({ ...h, ids: opts.all ? ('all' as const) : ids.filter((id) => settable(h.view).includes(id)) }))
        .filter((h) => h.ids === 'all' || h.ids.length > 0);
      const unknown = opts.all ? [] : ids.filter((id) => !hosts.some((h) => settable(h.view).includes(id)));
      if (unknown.length) return fail(`no host manager has ${unknown.map((i) => `"${i}"`).join(', ')}`);
      const replies = await Promise.all(
        plan.map(async (h) => {
          const requests = h.ids === 'all' ? [['all', target] as [string, 'up' | 'down']] : h.ids.map((id) => [id, target] as [string, 'up' | 'down']);
          return { url: h.url, reply: await h.client.update(requests, { reloadConfig: opts.all && target === 'down' }) };
        }),
      );
      for (const { url, reply } of replies) {
        if (reply.code !== 0) fail(`${url}: ${reply.message}`);
        else if (!conn.json && !opts.wait) process.stdout.write(`${url}: ${reply.message}\n`);
      }
      if (process.exitCode || !opts.wait) return;
      await waitForAll(plan, target, opts.timeout * 1000, conn);
    });
}

async function waitForAll(plan: { url: string; client: HostManagerClient; ids: string[] | 'all' }[], target: 'up' | 'down', timeoutMs: number, conn: ConnectionOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const tty = process.stderr.isTTY && !conn.json;
  let last = '';
  for (;;) {
    const views: ChildrenView[] = await Promise.all(plan.map((h) => h.client.children()));
    const all = views.map((v, i) => progressOn(v, plan[i]!.ids, target));
    const merged = { done: all.flatMap((p) => p.done), pending: all.flatMap((p) => p.pending), stuck: all.flatMap((p) => p.stuck) };
    const line = describeProgress(merged, target);
    if (line !== last && !conn.json) process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    last = line;
    const finished = merged.pending.length === 0;
    if (finished || Date.now() > deadline) {
      if (tty) process.stderr.write('\n');
      if (conn.json) process.stdout.write(`${JSON.stringify(merged, null, 2)}\n`);
      if (merged.stuck.length) fail(`not operable, cannot come ${target}: ${merged.stuck.join(', ')}`);
      if (!finished) fail(`timed out after ${timeoutMs / 1000} s; still not ${target}: ${merged.pending.join(', ')}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The ids a host manager can set targets for: its children, or, while its manager is stopped and
 * so has none, those of its site config, which `update` brings in by starting the manager.
 */
function settable(view: ChildrenView): string[] {
  return view.manager.running ? view.children.map((c) => c.instance_id) : view.configured;
}

/** An id not in the table yet (a manager just started has not filled it) is still to come. */
function progressOn(view: ChildrenView, ids: string[] | 'all', target: 'up' | 'down'): Progress {
  const p = progress(view.children, ids, target);
  const missing = ids === 'all' ? [] : ids.filter((id) => !view.children.some((c) => c.instance_id === id));
  return { ...p, pending: [...p.pending, ...missing] };
}
