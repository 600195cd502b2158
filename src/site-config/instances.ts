import { Errors } from '../shared/errors.js';
import { resolveLaunch } from './launch.js';
import { normaliseManage, unknownManageReason } from './manage.js';
import type { AgentClassEntry, InstanceEntry } from './schema.js';
import type { DataPath, YamlSource } from './source.js';
import type { SiteConfig } from './types.js';

const DEFAULT_STOP_TIMEOUT_S = 10;

export interface HostBlockContext {
  source: YamlSource;
  /** Where the host's `agent-instances` list is, for messages. */
  at: DataPath;
  agentClasses: Record<string, AgentClassEntry>;
  scfDir: string;
}

/**
 * Turns a host's validated `agent-instances` into the HostManager entry, the instances and the
 * warnings. Throws CONFIG_INVALID on a duplicate instance-id (naming both lines): two children
 * answering to one name cannot both be addressed.
 */
export function readInstances(
  entries: InstanceEntry[],
  ctx: HostBlockContext,
): Pick<SiteConfig, 'hostManager' | 'instances' | 'warnings'> {
  const out: Pick<SiteConfig, 'hostManager' | 'instances' | 'warnings'> = { instances: [], warnings: [] };
  const idLines = new Map<string, number>();
  const errors: string[] = [];
  const warn = (path: DataPath, reason: string): void => {
    const { file } = ctx.source;
    out.warnings.push({ file, line: ctx.source.lineOf(path), message: ctx.source.at(path, reason) });
  };

  entries.forEach((entry, i) => {
    const path = [...ctx.at, i];
    const line = ctx.source.lineOf(path);
    const instanceId = entry['instance-id'];
    const idPath = [...path, 'instance-id'];
    const firstLine = idLines.get(instanceId);
    if (firstLine !== undefined) {
      const reason = `duplicate instance-id "${instanceId}" (first on line ${firstLine})`;
      errors.push(ctx.source.at(idPath, reason));
      return;
    }
    idLines.set(instanceId, ctx.source.lineOf(idPath));

    if (entry['agent-class'] === 'HostManager') {
      // OCS skips every HostManager entry, so a stray second one must not fail the file.
      const first = out.hostManager;
      if (first) warn(path, `a second HostManager entry is ignored (the first is on line ${first.line})`);
      else out.hostManager = { instanceId, arguments: entry.arguments ?? [], line };
      return;
    }

    const badId = unusableIdReason(instanceId);
    if (badId) {
      warn(idPath, badId);
      return;
    }
    const manage = normaliseManage(entry.manage);
    if (!manage) {
      warn([...path, 'manage'], unknownManageReason(entry.manage));
      return;
    }
    const agentClass = entry['agent-class'];
    const classEntry = Object.hasOwn(ctx.agentClasses, agentClass) ? ctx.agentClasses[agentClass] : undefined;
    out.instances.push({
      instanceId,
      agentClass,
      manage,
      arguments: entry.arguments ?? [],
      // Docker children are launched by compose, and ignored ones not at all.
      ...(manage.startsWith('host/') ? resolveLaunch(entry, classEntry, ctx.scfDir) : { launch: null }),
      stopGraceMs: (entry['stop-timeout'] ?? DEFAULT_STOP_TIMEOUT_S) * 1000,
      ...(entry.restart ? { restart: entry.restart } : {}),
      line,
    });
  });

  if (errors.length > 0) throw Errors.CONFIG_INVALID(errors.join('\n'));
  return out;
}

/**
 * Why a child cannot be called `id`, if it cannot. `all` in an `update` request means every
 * child, so one called that could never be addressed alone; the id names the child's log file
 * (`<log-dir>/<id>.log`) and is a segment of its URLs (`/api/children/<id>/logs`), where `/`
 * makes a directory of it and `.` or `..` are dot-segments that no encoding keeps.
 */
function unusableIdReason(id: string): string | undefined {
  if (id === 'all') return '"all" is reserved: an update request for "all" means every child; entry skipped';
  if (id === '.' || id === '..') return `"${id}" cannot name a child (its log file and URLs need a plain name); entry skipped`;
  if (/[/\0]/.test(id)) return `${JSON.stringify(id)} contains "/" or a NUL character, which cannot be in its log file's name; entry skipped`;
  return undefined;
}
