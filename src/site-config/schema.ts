import { z } from 'zod';

/**
 * The shape of an SCF, as far as coxswain reads it. Every object is loose: OCS keys we do not use
 * (`wamp_server`, `crossbar`, `agent-paths`, ...) and keys of tools yet to come pass through
 * unchecked, while the keys we do use must have the right type. `null` (a key written with no
 * value) counts as absent, as an empty `agent-instances:` is common in hand-written files.
 * Messages are the reason part of `file:line: path: reason`.
 */

const mapping = { error: 'expected a mapping' };
const text = z.string({ error: 'expected a string' });
const name = text.min(1, { error: 'expected a non-empty string' });
const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'expected a string, number or boolean',
});

/** `arguments`: nested lists are flattened and every value turned into a string. */
const argumentList = z.array(z.unknown(), { error: 'expected a list' }).transform((list, ctx) => {
  const flat: string[] = [];
  const walk = (items: unknown[], path: number[]): void => {
    items.forEach((item, i) => {
      if (Array.isArray(item)) walk(item, [...path, i]);
      else if (['string', 'number', 'boolean'].includes(typeof item)) flat.push(String(item));
      else {
        ctx.addIssue({
          code: 'custom',
          message: 'expected a string, number, boolean or list',
          path: [...path, i],
          input: item,
        });
      }
    });
  };
  walk(list, []);
  return flat;
});

const command = z
  .array(text, { error: 'expected a list of strings' })
  .min(1, { error: 'expected a non-empty list of strings' });

const env = z
  .record(z.string(), scalar, mapping)
  .transform((vars) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)])));

const seconds = z
  .number({ error: 'expected a number of seconds > 0' })
  .positive({ error: 'expected a number of seconds > 0' });

const fraction = z
  .number({ error: 'expected a number from 0 to 1' })
  .min(0, { error: 'expected a number from 0 to 1' })
  .max(0.99, { error: 'expected a number from 0 to 1' });

/** coxswain's restart tuning, in seconds; OCS ignores it. */
const restart = z
  .strictObject(
    {
      'stable-after': seconds.optional(),
      'backoff-base': seconds.optional(),
      'backoff-max': seconds.optional(),
      jitter: fraction.optional(),
    },
    { error: 'expected a mapping of stable-after, backoff-base, backoff-max (seconds) and jitter (0-1)' },
  )
  .transform((r) => ({
    ...(r['stable-after'] !== undefined ? { stableAfterMs: r['stable-after'] * 1000 } : {}),
    ...(r['backoff-base'] !== undefined ? { baseDelayMs: r['backoff-base'] * 1000 } : {}),
    ...(r['backoff-max'] !== undefined ? { maxDelayMs: r['backoff-max'] * 1000 } : {}),
    ...(r.jitter !== undefined ? { jitter: r.jitter } : {}),
  }));

/** An `agent-classes:` entry: how to launch every instance of the class. */
export const agentClassSchema = z
  .looseObject({ command: command.nullish(), cwd: text.nullish(), env: env.nullish() }, mapping)
  .nullable()
  .transform((cls) => cls ?? {});

export const instanceSchema = z.looseObject(
  {
    'agent-class': name,
    'instance-id': name,
    // Left to normaliseManage: a value it does not know skips the entry with a warning instead
    // of rejecting the whole file.
    manage: z.unknown().optional(),
    arguments: argumentList.nullish(),
    command: command.nullish(),
    cwd: text.nullish(),
    env: env.nullish(),
    'stop-timeout': seconds.nullish(),
    restart: restart.nullish(),
  },
  mapping,
);

export const hostSchema = z
  .looseObject(
    {
      'log-dir': text.nullish(),
      'agent-instances': z.array(instanceSchema, { error: 'expected a list' }).nullish(),
    },
    mapping,
  )
  .nullable();

/** Host blocks are left unknown here: only the selected one is checked (see load.ts). */
export const rootSchema = z.looseObject(
  {
    hub: z.looseObject({ wamp_http: text.nullish(), address_root: text.nullish() }, mapping).nullish(),
    'agent-classes': z.record(z.string(), agentClassSchema, mapping).nullish(),
    hosts: z.record(z.string(), z.unknown(), mapping),
  },
  mapping,
);

export type AgentClassEntry = z.output<typeof agentClassSchema>;
export type InstanceEntry = z.output<typeof instanceSchema>;
