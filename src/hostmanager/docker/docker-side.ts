/**
 * Everything the host manager needs for docker-compose children, built from its options: the
 * engine view, the compose files (parsed, watched), the compose CLI and the children's runner.
 */
import { resolve } from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Adoptee, ClearChildInput } from '../child/child.machine.js';
import type { ChildRunner } from '../child/run-child.js';
import { watchFile } from '../config-watch.js';
import type { SiteConfig } from '../../site-config/types.js';
import { ComposeCli } from './compose-cli.js';
import { dockerClearer, dockerRunner, type DockerRunnerDeps } from './docker-runner.js';
import { DockerEngine } from './engine.js';
import { ComposeInventory, keyOf } from './inventory.js';

export interface DockerSideOptions {
  /** `--docker-compose`, as given; relative paths are taken from the working directory. */
  files: string[];
  prefix: string;
  /** `--docker-compose-bin`; by default v2 (`docker compose`) when present, else v1. */
  bin?: string;
  logger: Logger;
  /** Records each compose file's parse outcome for `config_parse_status`. */
  report: (file: string, ok: boolean, message: string) => void;
  /** Called whenever what the inventory resolves or shows may have changed. */
  onChange: () => void;
  /** The engine client; the caller loads dockerode, so hosts without compose files never do. */
  docker: Docker;
}

export class DockerSide {
  readonly engine: DockerEngine;
  readonly inventory: ComposeInventory;
  readonly compose: ComposeCli;
  readonly runner: ChildRunner;
  readonly clearer: ChildRunner<ClearChildInput>;
  private disowned = false;
  private watchers: { close(): Promise<void> }[] = [];

  constructor(private readonly opts: DockerSideOptions) {
    const logger = opts.logger.child({ component: 'docker' });
    this.engine = new DockerEngine(opts.docker, logger);
    this.inventory = new ComposeInventory({ files: opts.files, prefix: opts.prefix, engine: this.engine, report: opts.report });
    this.compose = new ComposeCli(opts.bin);
    const deps: DockerRunnerDeps = { engine: this.engine, compose: this.compose, inventory: this.inventory, logger, disowned: () => this.disowned };
    this.runner = dockerRunner(deps);
    this.clearer = dockerClearer(deps);
    for (const event of ['reachability', 'container', 'images'] as const) this.engine.on(event, () => opts.onChange());
  }

  /** Reads the compose files, connects to the engine (one attempt; it retries on its own) and watches the files. */
  async start(): Promise<void> {
    this.inventory.reload();
    await this.engine.start();
    const log = this.opts.logger.child({ component: 'docker' });
    void this.compose.command().then(
      (c) => log.info({ compose: c.argv.join(' '), version: c.version }, 'docker compose found'),
      (err: Error) => log.error(err.message),
    );
    this.watchers = this.opts.files.map((f) =>
      watchFile(resolve(f), () => {
        for (const error of this.inventory.reload()) log.error(`compose file not reloaded, keeping the last good one: ${error}`);
        this.opts.onChange();
      }),
    );
  }

  /** From now on, bringing a docker child down leaves its container running (`die(disown_dockers=True)`). */
  disown(): void {
    this.disowned = true;
  }

  /**
   * SCF docker instances whose container already runs: the supervisor starts them supervised, so
   * one that should be down is brought down rather than left running unseen.
   */
  adoptees(site: SiteConfig): Map<string, Adoptee> {
    const out = new Map<string, Adoptee>();
    for (const instance of site.instances) {
      if (!instance.manage.startsWith('docker/')) continue;
      const found = this.inventory.find(instance.instanceId);
      const c = found && this.engine.find(keyOf(found));
      if (c?.running) out.set(instance.instanceId, { pid: c.pid ?? 0, startTime: c.startedAt ?? '' });
    }
    return out;
  }

  sessionData(): { orphans: Record<string, unknown>; new_tags: Record<string, string> } {
    return { orphans: this.inventory.orphans(), new_tags: this.inventory.newTags() };
  }

  async close(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.close()));
    this.watchers = [];
    this.engine.close();
  }
}
