/**
 * Errors with stable codes. Callers branch on `code`, never on message text; HTTP handlers map
 * `statusCode` straight onto the reply. The catalogue lives in docs/errors.md and a test keeps
 * the two in sync.
 */
export class CoxError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 500,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CoxError';
  }
}

type ErrorFactory<A extends unknown[]> = ((...args: A) => CoxError) & { code: string };

function define<A extends unknown[]>(
  code: string,
  statusCode: number,
  render: (...args: A) => string,
): ErrorFactory<A> {
  const make = (...args: A) => new CoxError(code, render(...args), statusCode);
  return Object.assign(make, { code });
}

export const Errors = {
  /** A configuration file (SCF, compose, TOML) failed to parse or validate. */
  CONFIG_INVALID: define('COX_CONFIG_INVALID', 400, (detail: string) => detail),
  /** An HTTP body or query failed validation. */
  BAD_REQUEST: define('COX_BAD_REQUEST', 400, (detail: string) => detail),
  /** A named thing (child, op, job) does not exist. */
  NOT_FOUND: define('COX_NOT_FOUND', 404, (what: string) => `${what} not found`),
  /** A call arrived in a state that cannot take it (e.g. a stopped supervisor). */
  ILLEGAL_STATE: define('COX_ILLEGAL_STATE', 409, (detail: string) => detail),
  /** A request without the token the daemon was started with. */
  UNAUTHORIZED: define('COX_UNAUTHORIZED', 401, (how: string) => `a valid token is required (${how})`),
  /** A job was submitted with an id the controller already holds. */
  DUPLICATE_ID: define('COX_DUPLICATE_ID', 409, (id: string) => `job id "${id}" already exists`),
  /** A named process was started on a node where a process of that name is still running. */
  NAME_RUNNING: define('COX_NAME_RUNNING', 409, (name: string, node: string) => `a process named "${name}" is already running on node ${node}`),
  /** A node name that is not `<gid>_<nid>` of a connected agent. */
  NODE_UNKNOWN: define('COX_NODE_UNKNOWN', 404, (detail: string) => detail),
  /** An agent acknowledged an offer with a lease that is not (or no longer) the job's. */
  LEASE_INVALID: define('COX_LEASE_INVALID', 409, (id: string) => `lease for job "${id}" is not valid (expired, re-offered or never given to this node)`),
  /** A client certificate names another node than the path it calls. */
  FORBIDDEN: define('COX_FORBIDDEN', 403, (detail: string) => detail),
  /** A client could not connect to a daemon. */
  UNREACHABLE: define('COX_UNREACHABLE', 503, (why: string) => `unreachable (${why})`),
  /** A daemon answered with something that is not the JSON the client expects. */
  BAD_RESPONSE: define('COX_BAD_RESPONSE', 502, (detail: string) => detail),
  /** A daemon answered with an HTTP error that carried no code of its own. */
  HTTP_ERROR: define('COX_HTTP_ERROR', 502, (detail: string) => detail),
  /** The controller's shared store (Redis) does not answer; the call can be made again once it does. */
  STORE_UNAVAILABLE: define('COX_STORE_UNAVAILABLE', 503, (detail: string) => `the store is unavailable: ${detail}`),
  /** Anything unexpected; details are logged, not sent. */
  INTERNAL: define('COX_INTERNAL', 500, () => 'internal error'),
} as const;

export function isCoxError(err: unknown, factory?: { code: string }): err is CoxError {
  return err instanceof CoxError && (factory === undefined || err.code === factory.code);
}

/**
 * Status, code and client-safe message of anything thrown in a route: a CoxError, a Fastify error
 * (parsing, body size: these carry `statusCode`), or a fault, whose text stays in the log.
 */
export function errorFacts(err: unknown): { status: number; code: string; message: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { statusCode?: unknown; code?: unknown };
  const status = isCoxError(err) ? err.statusCode : typeof e.statusCode === 'number' ? e.statusCode : 500;
  // A CoxError's message is written for the caller; any other fault's text stays in the log.
  if (status >= 500 && !isCoxError(err)) return { status, code: Errors.INTERNAL.code, message: Errors.INTERNAL().message };
  const code = typeof e.code === 'string' ? e.code : Errors.BAD_REQUEST.code;
  return { status, code, message: err instanceof Error ? err.message : String(err) };
}
