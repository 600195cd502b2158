/**
 * `GET /`: the status page for a browser (status-page.ts). Behind the same token check as the
 * API, so a host manager with a token is opened as `/?token=<token>` and the page sends it on.
 */
import type { FastifyInstance } from 'fastify';
import { STATUS_PAGE, STATUS_PAGE_CSP } from './status-page.js';

export async function statusPageRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', STATUS_PAGE_CSP)
      // The URL may carry the token: keep it out of Referer headers and shared caches.
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(STATUS_PAGE),
  );
}
