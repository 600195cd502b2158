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
  /** Shutdown did not finish within its deadline and was forced. */
  SHUTDOWN_FORCED: define('COX_SHUTDOWN_FORCED', 500, (ms: number) => `graceful shutdown exceeded ${ms} ms; forced`),
} as const;

export function isCoxError(err: unknown, factory?: { code: string }): err is CoxError {
  return err instanceof CoxError && (factory === undefined || err.code === factory.code);
}
