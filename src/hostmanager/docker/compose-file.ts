/**
 * A docker-compose file as the host manager sees it: its project and its services. Read from the
 * YAML itself rather than through `compose config`, so a broken file is reported with its line and
 * reading it needs neither a compose binary nor a running engine.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Errors } from '../../shared/errors.js';
import { YamlSource } from '../../site-config/source.js';

export interface ComposeService {
  name: string;
  /** The `image:` reference, e.g. `coxswain-test:latest`; null for a build-only service. */
  image: string | null;
  /** Whether `compose up` of it also brings up other services (`depends_on`). */
  hasDependencies: boolean;
  line: number;
}

export interface ComposeFile {
  /** The path as the operator gave it, which is how messages and `config_parse_status` name it. */
  given: string;
  /** Absolute path, passed to compose with `-f` and matched against container labels. */
  file: string;
  project: string;
  services: Map<string, ComposeService>;
  /** Of the file's text: while it is unchanged, a container we created still matches it. */
  digest: string;
}

/** Reads and parses `given` (relative paths are taken from `cwd`); throws CONFIG_INVALID naming file and line. */
export function loadComposeFile(given: string, cwd = process.cwd()): ComposeFile {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, given), 'utf8');
  } catch (err) {
    throw Errors.CONFIG_INVALID(`${given}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseComposeFile(text, given, cwd);
}

export function parseComposeFile(text: string, given: string, cwd = process.cwd()): ComposeFile {
  const src = YamlSource.parse(text, given);
  const file = resolve(cwd, given);
  const top = src.value;
  if (!isMap(top)) throw Errors.CONFIG_INVALID(src.at([], 'expected a mapping with `services:`'));
  const raw = top.services;
  if (!isMap(raw)) throw Errors.CONFIG_INVALID(src.at(raw === undefined ? [] : ['services'], 'expected `services:` to be a mapping of services'));
  const services = new Map<string, ComposeService>();
  for (const [name, def] of Object.entries(raw)) {
    if (!isMap(def)) throw Errors.CONFIG_INVALID(src.at(['services', name], 'expected a mapping'));
    if (def.image !== undefined && typeof def.image !== 'string') throw Errors.CONFIG_INVALID(src.at(['services', name, 'image'], 'expected a string'));
    const deps = def.depends_on;
    const hasDependencies = Array.isArray(deps) ? deps.length > 0 : isMap(deps) && Object.keys(deps).length > 0;
    services.set(name, { name, image: def.image ?? null, hasDependencies, line: src.lineOf(['services', name]) });
  }
  if (top.name !== undefined && typeof top.name !== 'string') throw Errors.CONFIG_INVALID(src.at(['name'], 'expected a string'));
  const project = normalizeProjectName(top.name ?? basename(dirname(file)));
  if (project === '') throw Errors.CONFIG_INVALID(src.at(top.name === undefined ? [] : ['name'], 'no usable compose project name (set `name:`)'));
  return { given, file, project, services, digest: createHash('sha256').update(text).digest('hex') };
}

/**
 * Compose's default project name: the file's directory, lower-cased, stripped to `[a-z0-9_-]`
 * (v1 and v2 agree on that) and, as v2 requires, starting with a letter or digit.
 */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
