/** coxswain's version, as its package.json states it. */
import { readFileSync } from 'node:fs';

let version: string | undefined;

/**
 * Read on first use rather than imported as JSON: package.json lies outside the build's rootDir,
 * and is one level above both src/ (tests) and dist/ (the installed package).
 */
export function coxVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
