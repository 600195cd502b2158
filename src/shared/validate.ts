/** Turns untrusted input into typed values, or a BAD_REQUEST naming the first field at fault. */
import type { z } from 'zod';
import { Errors } from './errors.js';

export function validate<S extends z.ZodType>(schema: S, raw: unknown, where: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = [where, ...issue.path.map(String)].join('.');
  throw Errors.BAD_REQUEST(`${field}: ${issue.message}`);
}
