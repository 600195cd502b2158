/**
 * The compose services the host manager was given (`--docker-compose`), matched to SCF instances
 * by name (`<prefix><instance-id>`), and the containers the engine holds for them. A file that does
 * not parse keeps its last good services; the error goes to `config_parse_status` under its path.
 */
import type { DockerLaunch } from '../child/launch.js';
import type { ChildState } from '../child/child-state.js';
import type { DockerInventory } from '../supervisor.js';
import { loadComposeFile, type ComposeFile, type ComposeService } from './compose-file.js';
import { fromFile, type ContainerView } from './containers.js';
import type { DockerEngine } from './engine.js';

export interface ComposeInventoryOptions {
  /** As the operator gave them; relative paths are taken from the working directory. */
  files: string[];
  prefix: string;
  engine: DockerEngine;
  /** Records the outcome of reading a file, for `config_parse_status`. */
  report: (file: string, ok: boolean, message: string) => void;
}

export interface Orphan {
  id: string;
  service: string;
  project: string;
  compose_file: string;
  running: boolean;
}

export interface ResolvedService {
  file: ComposeFile;
  service: ComposeService;
  launch: DockerLaunch;
}

export class ComposeInventory implements DockerInventory {
  /** The last good parse of each file, by the path the operator gave. */
  private readonly good = new Map<string, ComposeFile>();
  private readonly errors = new Map<string, string>();

  constructor(private readonly opts: ComposeInventoryOptions) {}

  /** Re-reads the compose files; returns the errors of those that did not parse (their last good state is kept). */
  reload(): string[] {
    for (const given of this.opts.files) {
      try {
        const parsed = loadComposeFile(given);
        this.good.set(given, parsed);
        this.errors.delete(given);
        this.opts.report(given, true, `OK: ${parsed.services.size} services, project "${parsed.project}"`);
      } catch (err) {
        this.errors.set(given, (err as Error).message);
        this.opts.report(given, false, (err as Error).message);
      }
    }
    this.opts.engine.watchTags([...this.services()].flatMap(({ service }) => (service.image ? [service.image] : [])));
    return [...this.errors.values()];
  }

  /** The service `<prefix><instanceId>`, from the first file (in the order given) that defines it. */
  find(instanceId: string): ResolvedService | undefined {
    const name = `${this.opts.prefix}${instanceId}`;
    for (const { file, service } of this.services()) {
      if (service.name === name) return { file, service, launch: { kind: 'docker', service: name, composeFile: file.file, project: file.project } };
    }
    return undefined;
  }

  /** Whether the service still has a container to run it from in the file's last good state. */
  defines(launch: DockerLaunch): ComposeFile | undefined {
    const file = [...this.good.values()].find((f) => f.file === launch.composeFile);
    return file?.services.has(launch.service) ? file : undefined;
  }

  resolve(instanceId: string): { launch: DockerLaunch } | { reason: string } {
    const found = this.find(instanceId);
    if (!found) {
      const broken = this.errors.size ? `; not parsed: ${[...this.errors.keys()].join(', ')}` : '';
      return { reason: `docker-compose service "${this.opts.prefix}${instanceId}" not found in ${this.opts.files.join(', ')}${broken}` };
    }
    const { engine } = this.opts;
    return engine.reachable ? { launch: found.launch } : { reason: engine.reason };
  }

  passive(configured: ReadonlySet<string>): ChildState[] {
    const { engine, prefix } = this.opts;
    const rows: ChildState[] = [];
    for (const { file, service } of this.services()) {
      const id = service.name.startsWith(prefix) ? service.name.slice(prefix.length) : service.name;
      if (configured.has(id) || rows.some((r) => r.instance_id === id)) continue;
      const c = engine.find({ composeFile: file.file, project: file.project, service: service.name });
      const state = !engine.reachable ? '?' : c?.running ? 'up' : 'down';
      rows.push({
        instance_id: id,
        agent_class: '[docker]',
        target_state: 'passive',
        next_action: state,
        stability: 1,
        operable: false,
        restart_required: c ? this.stale(c, service) : false,
        pid: c?.pid ?? null,
        reason: engine.reachable ? `compose service "${service.name}" in ${file.given} with no SCF entry; not managed` : engine.reason,
        last_exit: null,
        crashes: 0,
        next_start_at: null,
        up_since: c?.running && c.startedAt ? Date.parse(c.startedAt) / 1000 : null,
      });
    }
    return rows;
  }

  restartRequired(instanceId: string): boolean {
    const found = this.find(instanceId);
    const c = found && this.opts.engine.find(keyOf(found));
    return c !== undefined && this.stale(c, found!.service);
  }

  /** Compose containers of our files whose service is no longer in that file. */
  orphans(): Record<string, Orphan> {
    const out: Record<string, Orphan> = {};
    for (const file of this.good.values()) {
      for (const c of this.opts.engine.all()) {
        if (!fromFile(c, file.file, file.project) || file.services.has(c.service)) continue;
        out[c.name] = { id: c.id.slice(0, 12), service: c.service, project: c.project, compose_file: file.given, running: c.running };
      }
    }
    return out;
  }

  /** Services whose tag now points to another image than their container runs. */
  newTags(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const { file, service } of this.services()) {
      const c = this.opts.engine.find({ composeFile: file.file, project: file.project, service: service.name });
      if (c && this.stale(c, service)) out[service.name] = service.image!;
    }
    return out;
  }

  *services(): Generator<{ file: ComposeFile; service: ComposeService }> {
    for (const given of this.opts.files) {
      const file = this.good.get(given);
      if (file) for (const service of file.services.values()) yield { file, service };
    }
  }

  private stale(c: ContainerView, service: ComposeService): boolean {
    const latest = service.image ? this.opts.engine.imageIdOf(service.image) : null;
    return Boolean(latest && c.imageId && c.imageId !== latest);
  }
}

export function keyOf(found: ResolvedService): { composeFile: string; project: string; service: string } {
  return { composeFile: found.file.file, project: found.file.project, service: found.service.name };
}
