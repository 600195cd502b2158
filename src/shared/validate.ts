/** Turns untrusted input into typed values, or a BAD_REQUEST naming the first field at fault. */
import type { z } from 'zod';
import { Errors } from './errors.js';

/** Parses `value` with `schema`; `where` prefixes the field path (`body`, `query`, `params`). */
export function check<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw Errors.BAD_REQUEST(zodReason(where, result.error));
}

/** `body.requests[0][1]: Invalid option: expected one of "up"|"down"`. */
export function zodReason(where: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `${where}: invalid`;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return `${where}${path}: ${issue.message}`;
}
