import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { Errors } from '../shared/errors.js';
import { readInstances } from './instances.js';
import { hostSchema, rootSchema } from './schema.js';
import { YamlSource, type DataPath } from './source.js';
import type { SiteConfig } from './types.js';

export interface SiteConfigOptions {
  /** The SCF path as the operator gave it; messages quote it unchanged. */
  file: string;
  /** `--site-host`; when absent, the machine's hostname and then `localhost` are tried. */
  host?: string;
  /** Working dir that `file` and a relative `log-dir` are resolved against (default: process.cwd()). */
  cwd?: string;
}

/** Reads and loads an SCF. Every problem with the file throws CONFIG_INVALID (`file:line: path: reason`). */
export function loadSiteConfig(opts: SiteConfigOptions): SiteConfig {
  let text: string;
  try {
    text = readFileSync(path.resolve(opts.cwd ?? process.cwd(), opts.file), 'utf8');
  } catch (err) {
    throw Errors.CONFIG_INVALID(`${opts.file}: ${(err as Error).message}`);
  }
  return parseSiteConfig(text, opts);
}

/**
 * Loads an SCF from its text (REFERENCE 1.1): selects the host block and normalises it. Only the
 * selected host block is validated, so a mistake in another host's block of a shared site file
 * does not stop this host's manager from (re)loading.
 */
export function parseSiteConfig(text: string, opts: SiteConfigOptions): SiteConfig {
  const cwd = opts.cwd ?? process.cwd();
  const file = path.resolve(cwd, opts.file);
  const source = YamlSource.parse(text, opts.file);
  const root = validate(source, rootSchema, source.value, []);
  const host = selectHost(source, root.hosts, opts.host);
  const block = validate(source, hostSchema, root.hosts[host], ['hosts', host]);
  const wampHttp = root.hub?.wamp_http;
  return {
    file,
    host,
    hub: { ...(wampHttp ? { wampHttp } : {}), addressRoot: root.hub?.address_root ?? 'observatory' },
    logDir: path.resolve(cwd, block?.['log-dir'] ?? 'logs'),
    ...readInstances(block?.['agent-instances'] ?? [], {
      source,
      at: ['hosts', host, 'agent-instances'],
      agentClasses: root['agent-classes'] ?? {},
      scfDir: path.dirname(file),
    }),
  };
}

function validate<S extends z.ZodType>(
  source: YamlSource,
  schema: S,
  value: unknown,
  at: DataPath,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Zod reports in schema order; the operator reads the file top to bottom.
  const messages = result.error.issues
    .map((issue) => {
      const where = [...at, ...issue.path];
      return { line: source.lineOf(where), text: source.at(where, issue.message) };
    })
    .sort((a, b) => a.line - b.line);
  throw Errors.CONFIG_INVALID(messages.map((m) => m.text).join('\n'));
}

function selectHost(source: YamlSource, hosts: Record<string, unknown>, wanted: string | undefined): string {
  const candidates = wanted ? [wanted] : [...new Set([os.hostname(), 'localhost'])];
  const found = candidates.find((h) => Object.hasOwn(hosts, h));
  if (found !== undefined) return found;
  const known = Object.keys(hosts).join(', ') || 'none';
  const names = candidates.map((h) => JSON.stringify(h)).join(' or ');
  throw Errors.CONFIG_INVALID(source.at(['hosts'], `no block for host ${names} (hosts here: ${known})`));
}
