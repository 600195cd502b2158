/** Turns untrusted input into typed values, or a BAD_REQUEST naming the first field at fault. */
import type { z } from 'zod';
import { Errors } from './errors.js';

/**
 * How deep a request may nest. Schemas let some values through unread (a job's extra `args`, an
 * op's params), and a value thousands of levels deep overflows the stack of whatever serializes
 * it later, far from the request that brought it.
 */
export const MAX_NESTING = 64;

/** Parses `value` with `schema`; `where` prefixes the field path (`body`, `query`, `params`). */
export function check<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const deep = tooDeep(value, MAX_NESTING);
  if (deep !== null) throw Errors.BAD_REQUEST(`${where}${fieldPath(deep)}: nested deeper than ${MAX_NESTING} levels`);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw Errors.BAD_REQUEST(zodReason(where, result.error));
}

/** `body.requests[0][1]: Invalid option: expected one of "up"|"down"`. */
export function zodReason(where: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `${where}: invalid`;
  return `${where}${fieldPath(issue.path)}: ${issue.message}`;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

/** The field holding the first object or array nested past `limit` levels, or null. */
function tooDeep(value: unknown, limit: number): (string | number)[] | null {
  // Iterative, so that measuring a deep value cannot overflow the stack either.
  const stack: { v: unknown; depth: number; top: string | number | null }[] = [{ v: value, depth: 0, top: null }];
  while (stack.length > 0) {
    const { v, depth, top } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= limit) return top === null ? [] : [top];
    if (Array.isArray(v)) {
      v.forEach((x, i) => typeof x === 'object' && x !== null && stack.push({ v: x, depth: depth + 1, top: top ?? i }));
      continue;
    }
    for (const k in v) {
      const x = (v as Record<string, unknown>)[k];
      if (typeof x === 'object' && x !== null) stack.push({ v: x, depth: depth + 1, top: top ?? k });
    }
  }
  return null;
}
