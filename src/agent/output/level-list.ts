/** Level lists as jobs write them (REFERENCE 2.2): `"*"`, `"1,2,3"`, `"1-5,20"`, or `""`. */
import { Errors } from '../../shared/errors.js';

/** Every level, or exactly these. */
export type Levels = 'all' | ReadonlySet<number>;

const MAX_LEVEL = 30;

/**
 * Parses a level list. `""` (or blanks) means "not given": the caller falls back to its default,
 * so the result is null. Throws BAD_REQUEST naming `field` for anything else that is not a list
 * of levels 1–30 and ranges of them.
 */
export function parseLevelList(text: string, field = 'levels'): Levels | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  if (trimmed === '*') return 'all';
  const levels = new Set<number>();
  for (const raw of trimmed.split(',')) {
    const part = raw.trim();
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    const [from, to] = range ? [Number(range[1]), Number(range[2])] : [Number(part), Number(part)];
    if (!/^\d+$/.test(part) && !range) throw Errors.BAD_REQUEST(`${field}: "${part}" is not a level or a range of levels`);
    if (from < 1 || to > MAX_LEVEL || from > to) throw Errors.BAD_REQUEST(`${field}: "${part}" is outside levels 1-${MAX_LEVEL}`);
    for (let l = from; l <= to; l++) levels.add(l);
  }
  return levels;
}

/** Config files write levels as arrays, where `[]` means all. */
export function levelsFromArray(list: readonly number[]): Levels {
  return list.length === 0 ? 'all' : new Set(list);
}

export function allows(levels: Levels, level: number): boolean {
  return levels === 'all' || levels.has(level);
}
