/**
 * Jumpscripts (REFERENCE 2.5): files `<script-dir>/<organization>/<name>.<ext>`, sent to an agent
 * as a `jumpscript` job that names the script by content hash. The text is kept in the store
 * under that hash, so an agent fetching it later — after an edit or a controller restart — gets
 * exactly the version it was sent.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JUMPSCRIPT_EXTENSIONS } from '../protocol/job.js';
import { Errors } from '../shared/errors.js';
import type { Controller, SubmitRequest } from './controller.js';
import type { JobView } from './store/job-store.js';

export interface ExecuteJumpScriptRequest {
  organization: string;
  name: string;
  gid?: number;
  nid?: number;
  role?: string;
  /** The script's own arguments, sent as the job's data (JSON). */
  args?: Record<string, unknown>;
  /** Seconds the agent lets it run (the job's `max_time`; default 600); 0 = no limit. */
  timeout?: number;
  /** true: until the job ends (at most `timeout` plus a margin); a number: that many seconds. */
  wait?: boolean | number;
  queue?: string;
}

/** As JumpScale's client. */
export const DEFAULT_SCRIPT_TIMEOUT = 600;
/** What `wait: true` adds to the script's timeout for hand-off and reporting. */
const WAIT_MARGIN_S = 30;
const UNBOUNDED_WAIT_S = 24 * 3600;

export async function executeJumpScript(controller: Controller, scriptDir: string, req: ExecuteJumpScriptRequest, signal?: AbortSignal): Promise<JobView> {
  if (req.role === undefined && req.nid === undefined) throw Errors.BAD_REQUEST('body: give nid or role');
  const { ext, text } = await findScript(scriptDir, req.organization, req.name);
  const hash = createHash('sha256').update(text).digest('hex');
  await controller.store.putScript(hash, text, controller.now());
  const timeout = req.timeout ?? DEFAULT_SCRIPT_TIMEOUT;
  const submit: SubmitRequest = {
    cmd: 'jumpscript',
    args: { organization: req.organization, name: req.name, hash, ext, max_time: timeout, queue: req.queue ?? '' },
    data: JSON.stringify(req.args ?? {}),
    // Role wins over nid, as in JumpScale's client.
    ...(req.role !== undefined ? { roles: [req.role] } : { nid: req.nid! }),
    ...(req.gid !== undefined ? { gid: req.gid } : {}),
  };
  const wait = waitSeconds(req.wait, timeout);
  return controller.submit({ ...submit, ...(wait > 0 ? { wait } : {}) }, signal);
}

/**
 * How long a request with `wait` is held: `true` means until the script's timeout has surely
 * passed, and at most a day, the longest wait one request may ask for (callers wait again).
 */
export function waitSeconds(wait: boolean | number | undefined, timeout: number): number {
  if (wait === true) return timeout > 0 ? Math.min(timeout + WAIT_MARGIN_S, UNBOUNDED_WAIT_S) : UNBOUNDED_WAIT_S;
  return wait || 0;
}

async function findScript(dir: string, organization: string, name: string): Promise<{ ext: (typeof JUMPSCRIPT_EXTENSIONS)[number]; text: string }> {
  for (const ext of JUMPSCRIPT_EXTENSIONS) {
    try {
      return { ext, text: await readFile(join(dir, organization, `${name}.${ext}`), 'utf8') };
    } catch (err) {
      if (!['ENOENT', 'ENOTDIR', 'EISDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
  throw Errors.NOT_FOUND(`jumpscript "${organization}/${name}" (${JUMPSCRIPT_EXTENSIONS.map((e) => `.${e}`).join(' ')} in ${dir})`);
}
