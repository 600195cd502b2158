/**
 * Who may call what. Clients (/api) present the bearer token when the controller has one.
 * Agents (`/{gid}/{nid}/...`, `/script`) present the token or a client certificate the CA
 * signed; a certificate binds its holder to one node: its subject CN must be `<gid>_<nid>` of the
 * path, so one compromised node cannot poll, acknowledge or report for another.
 */
import { timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Errors, type CoxError } from '../../shared/errors.js';
import type { NodeKey } from '../store/job-store.js';
import { nodeParams } from './schemas.js';

/** What a request or stream is for: the client API, a script text, or one node's agent protocol. */
export type Audience = { kind: 'client' } | { kind: 'script' } | { kind: 'node'; gid: string; nid: string; node: NodeKey | null };

/**
 * The rule itself, for HTTP routes and stream handshakes alike: null when the caller may go on,
 * else the error to answer. `cn` is the verified certificate's subject CN, if any.
 */
export function authorizer(token: string | undefined) {
  const expected = token === undefined ? undefined : Buffer.from(token);
  const tokenOk = (header: string | undefined) => {
    if (!expected) return true;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
    const given = Buffer.from(header.slice(7));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return (audience: Audience, authorization: string | undefined, cn: string | undefined): CoxError | null => {
    if (cn !== undefined && audience.kind !== 'client') {
      if (audience.kind === 'script') return null;
      if (audience.node && cn === `${audience.node.gid}_${audience.node.nid}`) return null;
      return Errors.FORBIDDEN(`certificate of "${cn}" may not act as node ${audience.gid}_${audience.nid}`);
    }
    return tokenOk(authorization) ? null : Errors.UNAUTHORIZED('Authorization: Bearer <token>');
  };
}

export function authHook(token: string | undefined) {
  const authorize = authorizer(token);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    // The matched route and its decoded params, never the raw URL: `/%31/10/cmd` is node 1_10 too.
    const route = req.routeOptions.url ?? '';
    const audience: Audience = route.startsWith('/:gid/:nid/')
      ? { kind: 'node', ...(req.params as { gid: string; nid: string }), node: nodeOf(req.params) }
      : route === '/script'
        ? { kind: 'script' }
        : { kind: 'client' };
    const denied = authorize(audience, req.headers.authorization, verifiedCommonName(req.raw.socket));
    if (denied) return reply.code(denied.statusCode).send({ code: denied.code, message: denied.message });
  };
}

function nodeOf(params: unknown): NodeKey | null {
  const node = nodeParams.safeParse(params);
  return node.success ? node.data : null;
}

/** The CN of a client certificate the CA verified, or undefined (plain HTTP, no or bad cert). */
export function verifiedCommonName(socket: unknown): string | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (!tls.authorized || typeof tls.getPeerCertificate !== 'function') return undefined;
  const cn = tls.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' ? cn : Array.isArray(cn) ? String(cn[0]) : '';
}
