import type { FastifyReply } from 'fastify';

/** Aborts when the client goes away before the reply is sent, so its long wait ends at once. */
export function closeSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
