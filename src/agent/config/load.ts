/**
 * Loads an agent2 TOML file into an AgentConfig. Every problem throws CONFIG_INVALID as
 * `file:line: key: reason` (one line per problem, in file order), before anything is created
 * on disk, so a malformed file stops the agent at start and changes nothing.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { BUILTIN_COMMANDS } from '../../protocol/builtins.js';
import { Errors } from '../../shared/errors.js';
import { levelsFromArray } from '../output/level-list.js';
import { agentFileSchema, type AgentFile } from './schema.js';
import { keyAtLine, lineOfKey } from './locate.js';
import type { AgentConfig, LoggerConfig } from './types.js';

/** Commands the agent itself implements; a `[cmds.X]` section may not shadow them. */
export const BUILTIN_CMDS = ['execute', 'jumpscript', ...BUILTIN_COMMANDS] as const;

interface Problem {
  path: (string | number)[];
  message: string;
}

/** Reads and loads `file` (as the operator gave it; messages quote it unchanged). */
export function loadAgentConfig(file: string, cwd = process.cwd()): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    throw Errors.CONFIG_INVALID(`${file}: ${(err as Error).message}`);
  }
  return parseAgentConfig(text, file, cwd);
}

export function parseAgentConfig(text: string, file: string, cwd = process.cwd()): AgentConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
    const key = keyAtLine(text, err.line);
    throw Errors.CONFIG_INVALID(`${file}:${err.line}:${err.column}: ${key ? `${key}: ` : ''}${reason}`);
  }
  const parsed = agentFileSchema.safeParse(raw);
  if (!parsed.success) throw invalid(text, file, parsed.error.issues.flatMap((i) => problems(i, raw)));
  const dir = path.dirname(path.resolve(cwd, file));
  const checked = [...crossReferences(parsed.data), ...missingFiles(parsed.data, dir)];
  if (checked.length > 0) throw invalid(text, file, checked);
  return normalise(parsed.data, path.resolve(cwd, file), dir);
}

function problems(issue: z.core.$ZodIssue, raw: unknown): Problem[] {
  const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => ({ path: [...at, k], message: 'unknown key' }));
  const missing = issue.code === 'invalid_type' && valueAt(raw, at) === undefined;
  return [{ path: at, message: missing ? `missing (${issue.message})` : issue.message }];
}

function valueAt(raw: unknown, at: readonly (string | number)[]): unknown {
  let value = raw;
  for (const key of at) value = typeof value === 'object' && value !== null ? (value as Record<string | number, unknown>)[key] : undefined;
  return value;
}

function invalid(text: string, file: string, found: Problem[]) {
  const lines = found
    .map((p) => ({ line: lineOfKey(text, p.path), text: `${dotted(p.path)}: ${p.message}` }))
    .sort((a, b) => a.line - b.line)
    .map((p) => `${file}:${p.line}: ${p.text}`);
  return Errors.CONFIG_INVALID(lines.join('\n'));
}

function dotted(keys: readonly (string | number)[]): string {
  return keys.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

function crossReferences(f: AgentFile): Problem[] {
  const known = Object.keys(f.controllers);
  const found: Problem[] = [];
  const check = (list: string[], at: (string | number)[]) =>
    list.forEach((key, i) => {
      if (!known.includes(key)) found.push({ path: [...at, i], message: `no [controllers.${key}] (controllers here: ${known.join(', ')})` });
    });
  check(f.channel.cmds, ['channel', 'cmds']);
  check(f.stats.controllers, ['stats', 'controllers']);
  for (const [name, l] of Object.entries(f.logging)) if (l.type === 'AC') check(l.controllers, ['logging', name, 'controllers']);
  for (const name of Object.keys(f.cmds)) {
    if ((BUILTIN_CMDS as readonly string[]).includes(name)) found.push({ path: ['cmds', name], message: `"${name}" is a built-in command` });
  }
  return found;
}

/** Certificate files are read at start; a wrong path is a mistake in this file, so say so now. */
function missingFiles(f: AgentFile, dir: string): Problem[] {
  const found: Problem[] = [];
  for (const [key, c] of Object.entries(f.controllers)) {
    for (const [field, file] of Object.entries(c.security)) {
      if (file === undefined) continue;
      try {
        accessSync(path.resolve(dir, file), constants.R_OK);
      } catch {
        found.push({ path: ['controllers', key, 'security', field], message: `cannot read ${file}` });
      }
    }
  }
  return found;
}

function normalise(f: AgentFile, file: string, dir: string): AgentConfig {
  const at = (p: string) => path.resolve(dir, p);
  const all = (keys: string[]) => (keys.length > 0 ? keys : Object.keys(f.controllers));
  const historyFile = at(f.main.history_file);
  return {
    file,
    gid: f.main.gid,
    nid: f.main.nid,
    maxJobs: f.main.max_jobs,
    messageIdFile: at(f.main.message_id_file),
    historyFile,
    stateDir: f.main.state_dir ? at(f.main.state_dir) : path.dirname(historyFile),
    roles: f.main.roles,
    controllers: Object.fromEntries(
      Object.entries(f.controllers).map(([key, c]) => {
        const s = c.security;
        const tls = {
          ...(s.client_certificate ? { cert: at(s.client_certificate) } : {}),
          ...(s.client_certificate_key ? { key: at(s.client_certificate_key) } : {}),
          ...(s.certificate_authority ? { ca: at(s.certificate_authority) } : {}),
        };
        return [key, { key, url: c.url.replace(/\/+$/, ''), ...(c.token ? { token: c.token } : {}), transport: c.transport, tls }];
      }),
    ),
    cmds: Object.fromEntries(
      Object.entries(f.cmds).map(([name, c]) => [name, { binary: c.binary, args: c.args, env: c.env, ...(c.cwd ? { cwd: at(c.cwd) } : {}) }]),
    ),
    channel: all(f.channel.cmds),
    loggers: Object.entries(f.logging).map(([name, l]): LoggerConfig => {
      const levels = levelsFromArray(l.levels);
      if (l.type === 'DB') {
        return { name, type: 'DB', levels, logDir: at(l.log_dir), maxFileBytes: l.max_file_size, maxFileAgeMs: l.max_file_age * 1000, maxFiles: l.max_files };
      }
      if (l.type === 'AC') return { name, type: 'AC', levels, flushMs: l.flush_int * 1000, batchSize: l.batch_size, controllers: all(l.controllers) };
      return { name, type: 'console', levels };
    }),
    stats: { intervalMs: f.stats.interval * 1000, controllers: all(f.stats.controllers) },
    startup: Object.entries(f.startup).map(([id, s]) => ({ id, cmd: s.name, args: s.args })),
  };
}
