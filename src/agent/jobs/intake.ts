/**
 * One offer from a poll, taken at most once: validated, acknowledged with its lease BEFORE it
 * runs (a 409 means the lease expired and the controller will offer it elsewhere or again: do not
 * run), then remembered as seen in the history so that neither a re-offer nor an agent restart
 * runs it a second time. A re-offered id already seen is acknowledged again — the first ack's
 * reply may have been lost — but not rerun.
 */
import type { Logger } from 'pino';
import { job as jobSchema, offer as offerSchema } from '../../protocol/job.js';
import { isCoxError, Errors } from '../../shared/errors.js';
import { zodReason } from '../../shared/validate.js';
import { sleep } from '../backoff.js';
import type { ControllerClient } from '../transport/controller-client.js';
import type { History } from './history.js';
import type { JobManager } from './job-manager.js';

export interface IntakeDeps {
  history: History;
  manager: JobManager;
  logger: Logger;
}

const ACK_ATTEMPTS = 3;

export async function takeOffer(raw: unknown, client: ControllerClient, deps: IntakeDeps): Promise<void> {
  const parsed = offerSchema.safeParse(raw);
  if (!parsed.success) return refuse(raw, client, deps, zodReason('offer', parsed.error));
  const { lease, ...job } = parsed.data;
  if (deps.history.hasSeen(job.id)) {
    await ack(client, job.id, lease);
    deps.logger.info({ job: job.id, controller: client.key }, 'job offered again after it was taken: acknowledged, not run again');
    return;
  }
  if (!(await ack(client, job.id, lease))) {
    deps.logger.warn({ job: job.id, controller: client.key }, 'lease expired before the acknowledgement: job not run');
    return;
  }
  deps.history.markSeen(job.id);
  deps.manager.submit(job, client.key);
}

/**
 * An offer the shared schema rejects cannot run; if it has an id and lease it is taken anyway and
 * answered ERROR with the reason, so the controller does not offer it forever.
 */
async function refuse(raw: unknown, client: ControllerClient, deps: IntakeDeps, reason: string): Promise<void> {
  const { id, lease, cmd } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  deps.logger.warn({ controller: client.key, job: id, reason }, 'invalid offer');
  if (typeof id !== 'string' || id === '' || typeof lease !== 'string' || deps.history.hasSeen(id)) return;
  if (!(await ack(client, id, lease))) return;
  deps.history.markSeen(id);
  deps.manager.refuse(jobSchema.parse({ id, cmd: typeof cmd === 'string' && cmd !== '' ? cmd : 'invalid' }), client.key, reason);
}

/**
 * Retries a lost connection, never a controller's answer. A refusal after a lost attempt is
 * ambiguous — that attempt may have been stored, and its reply lost — so it fails like the lost
 * connection it may be: the poller then announces the agent again, and the controller learns
 * which of the processes it handed over the agent actually holds.
 */
async function ack(client: ControllerClient, id: string, lease: string): Promise<boolean> {
  for (let n = 1; ; n++) {
    let ok: boolean;
    try {
      ok = await client.ack(id, lease);
    } catch (err) {
      if (n >= ACK_ATTEMPTS || !isCoxError(err, Errors.UNREACHABLE)) throw err;
      await sleep(100 * n);
      continue;
    }
    if (!ok && n > 1) throw Errors.UNREACHABLE(`${client.key}: the reply to the acknowledgement of ${id} was lost, and it may have been stored`);
    return ok;
  }
}
