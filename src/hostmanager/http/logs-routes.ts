/**
 * A child's log file over HTTP:
 * - `GET /api/children/:id/logs?lines=N` → `{instance_id, file, lines}`: the last N lines
 *   (default 100, 0 to 10,000), a line still being written included.
 * - `GET /api/children/:id/logs?lines=N&follow=true` → `text/plain; charset=utf-8`, chunked: the
 *   last N complete lines, then the file's bytes as the child writes them, across the child's
 *   restarts and the file's rotations, until the client goes away or the server closes.
 *
 * Follow sends plain text rather than ndjson: it is the file's own bytes, with no framing to
 * strip (`curl -N` shows them as they come, `cox logs -f` writes them straight through), and a
 * line still being written shows as it grows, as with `tail -f`. Errors found before streaming
 * starts (unknown child, bad query) are the usual JSON errors.
 */
import { open } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Errors } from '../../shared/errors.js';
import { check } from '../../shared/validate.js';
import type { HostManager } from '../host-manager.js';
import { childLogFile } from '../logs/child-logs.js';
import { LogFollower } from '../logs/follow.js';
import { LogFiles } from '../logs/log-files.js';
import { readTailAt } from '../logs/tail.js';

const idParams = z.object({ id: z.string().min(1) });
const logsQuery = z.object({
  lines: z.coerce.number().int().min(0).max(10_000).default(100),
  follow: z.stringbool().default(false),
});

/** How long a follower gets to read the end of its stream when the server closes. */
const END_GRACE_MS = 1_000;

export interface LogsRoutesOptions {
  hm: HostManager;
  /** Shared with the daemon's rotation, so followers see our rotations; a private one otherwise. */
  logs?: LogFiles;
}

export async function logsRoutes(app: FastifyInstance, opts: LogsRoutesOptions): Promise<void> {
  const { hm } = opts;
  const logs = opts.logs ?? new LogFiles();
  const following = new Set<() => Promise<void>>();
  // An open stream would hold app.close() until the client left; end them all first.
  app.addHook('preClose', async () => {
    await Promise.all([...following].map((end) => end()));
  });

  app.get('/api/children/:id/logs', async (req, reply) => {
    const { id } = check(idParams, req.params, 'params');
    const { lines, follow } = check(logsQuery, req.query, 'query');
    const file = hm.supervisor.has(id) ? childLogFile(hm, id) : null;
    if (file === null) throw Errors.NOT_FOUND(`child "${id}"`);
    if (!follow) return { instance_id: id, file, lines: await lastLines(file, lines) };

    const out = new PassThrough();
    const follower = new LogFollower({ logs, file: () => childLogFile(hm, id), out });
    const res = reply.raw;
    let ended: Promise<void> | null = null;
    const end = (): Promise<void> =>
      (ended ??= new Promise((resolve) => {
        follower.stop();
        following.delete(end);
        out.end();
        if (res.destroyed) return resolve();
        // A client that stopped reading never lets the response finish: cut it off rather than
        // hold the shutdown.
        const timer = setTimeout(() => res.destroy(), END_GRACE_MS);
        res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      }));
    following.add(end);
    res.once('close', () => void end());
    await follower.start(lines);
    return reply
      .header('cache-control', 'no-store')
      // Browsers otherwise hold back a text/plain body to sniff its type.
      .header('x-content-type-options', 'nosniff')
      .type('text/plain; charset=utf-8')
      .send(out);
  });
}

async function lastLines(file: string, lines: number): Promise<string[]> {
  if (lines === 0) return [];
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const tail = await readTailAt(handle, (await handle.stat()).size, lines);
    return (tail.partial ? [...tail.lines, tail.partial] : tail.lines).slice(-lines);
  } finally {
    await handle.close();
  }
}
