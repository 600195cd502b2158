/**
 * The offers of one poll, each taken at most once: validated, acknowledged together with their
 * leases in one post BEFORE any of them runs (a refused lease means it expired and the
 * controller will offer it elsewhere or again: do not run that one), then remembered as taken in
 * the history so that neither a re-offer nor an agent restart runs it a second time. A re-offered
 * id still held (running, or its result on its way) is acknowledged again — the first ack's reply
 * may have been lost — but not rerun. An id this agent ran and reported before is a new job
 * reusing it (the controller pruned the old one): acknowledged and answered DUPLICATE_ID, so it
 * ends at once instead of waiting for a result that will never come.
 */
import type { Logger } from 'pino';
import { job as jobSchema, offer as offerSchema, type Ack } from '../../protocol/job.js';
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

/** An offer to acknowledge; `start` answers it once acknowledged, null when it is held already. */
interface Taking extends Ack {
  start: (() => void) | null;
  /** Its command, remembered as taken once acknowledged; null for an answer that only refuses it. */
  cmd: string | null;
}

type AckOutcome = 'taken' | 'refused' | 'ambiguous';

export async function takeOffers(raws: readonly unknown[], client: ControllerClient, deps: IntakeDeps): Promise<void> {
  const items = raws.flatMap((raw) => taking(raw, client, deps));
  if (items.length === 0) return;
  const outcomes = await ack(client, items);
  const ambiguous: string[] = [];
  items.forEach(({ id, start, cmd }, i) => {
    const outcome = outcomes[i];
    if (outcome === 'ambiguous') ambiguous.push(id);
    else if (start === null) deps.logger.info({ job: id, controller: client.key }, 'job offered again while this agent holds it: acknowledged, not run again');
    else if (outcome === 'refused') deps.logger.warn({ job: id, controller: client.key }, 'lease expired before the acknowledgement: job not run');
    else {
      if (cmd !== null) deps.history.markTaken({ id, cmd, origin: client.key });
      start();
    }
  });
  if (ambiguous.length > 0) {
    throw Errors.UNREACHABLE(`${client.key}: the reply to the acknowledgement of ${ambiguous.join(', ')} was lost, and it may have been stored`);
  }
}

/**
 * What to acknowledge for one offer. An offer the shared schema rejects cannot run; if it has an
 * id and lease it is taken anyway and answered ERROR with the reason, so the controller does not
 * offer it forever.
 */
function taking(raw: unknown, client: ControllerClient, deps: IntakeDeps): Taking[] {
  const parsed = offerSchema.safeParse(raw);
  if (parsed.success) {
    const { lease, ...job } = parsed.data;
    if (deps.history.hasSettled(job.id)) {
      const reason = `job id ${job.id} was run by this agent before, and an agent never runs an id twice`;
      return [{ id: job.id, lease, cmd: null, start: () => deps.manager.refuse(job, client.key, reason, 'DUPLICATE_ID') }];
    }
    return [{ id: job.id, lease, cmd: job.cmd, start: deps.history.hasSeen(job.id) ? null : () => deps.manager.submit(job, client.key) }];
  }
  const reason = zodReason('offer', parsed.error);
  const { id, lease, cmd } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  deps.logger.warn({ controller: client.key, job: id, reason }, 'invalid offer');
  if (typeof id !== 'string' || id === '' || typeof lease !== 'string' || deps.history.hasSeen(id)) return [];
  const job = jobSchema.parse({ id, cmd: typeof cmd === 'string' && cmd !== '' ? cmd : 'invalid' });
  return [{ id, lease, cmd: null, start: () => deps.manager.refuse(job, client.key, reason) }];
}

/**
 * Retries a lost connection, never a controller's answer. A refusal after a lost attempt is
 * ambiguous — that attempt may have been stored, and its reply lost — so that item fails like the
 * lost connection it may be: the poller then announces the agent again, and the controller learns
 * which of the processes it handed over the agent actually holds. The items taken still run.
 */
async function ack(client: ControllerClient, items: readonly Taking[]): Promise<AckOutcome[]> {
  const acks = items.map(({ id, lease }) => ({ id, lease }));
  for (let n = 1; ; n++) {
    let taken: boolean[];
    try {
      taken = await client.ack(acks);
    } catch (err) {
      if (n >= ACK_ATTEMPTS || !isCoxError(err, Errors.UNREACHABLE)) throw err;
      await sleep(100 * n);
      continue;
    }
    return taken.map((ok) => (ok ? 'taken' : n > 1 ? 'ambiguous' : 'refused'));
  }
}
