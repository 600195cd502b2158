/**
 * Who may call what. Clients (/api) present the bearer token when the controller has one.
 * Agents (`/{gid}/{nid}/...`, `/script`) present the token or a client certificate the CA
 * signed; a certificate binds its holder to one node: its subject CN must be `<gid>_<nid>` of the
 * path, so one compromised node cannot poll, acknowledge or report for another.
 */
import { timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '../../shared/errors.js';
import { nodeParams } from './schemas.js';

export function authHook(token: string | undefined) {
  const expected = token === undefined ? undefined : Buffer.from(token);
  const tokenOk = (req: FastifyRequest) => {
    if (!expected) return true;
    const header = req.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
    const given = Buffer.from(header.slice(7));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  return async (req: FastifyRequest, reply: FastifyReply) => {
    // The matched route and its decoded params, never the raw URL: `/%31/10/cmd` is node 1_10 too.
    const route = req.routeOptions.url ?? '';
    const nodeRoute = route.startsWith('/:gid/:nid/');
    const cn = nodeRoute || route === '/script' ? verifiedCommonName(req) : undefined;
    if (cn !== undefined) {
      if (!nodeRoute) return;
      const node = nodeParams.safeParse(req.params);
      if (node.success && cn === `${node.data.gid}_${node.data.nid}`) return;
      const { gid, nid } = req.params as { gid: string; nid: string };
      return deny(reply, Errors.FORBIDDEN(`certificate of "${cn}" may not act as node ${gid}_${nid}`));
    }
    if (!tokenOk(req)) return deny(reply, Errors.UNAUTHORIZED());
  };
}

/** The CN of a client certificate the CA verified, or undefined (plain HTTP, no or bad cert). */
function verifiedCommonName(req: FastifyRequest): string | undefined {
  const socket = req.raw.socket as Partial<TLSSocket>;
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' ? cn : Array.isArray(cn) ? String(cn[0]) : '';
}

function deny(reply: FastifyReply, err: ReturnType<typeof Errors.FORBIDDEN>) {
  return reply.code(err.statusCode).send({ code: err.code, message: err.message });
}
