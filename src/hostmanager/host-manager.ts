/**
 * One host manager: the site config, the supervisor of its children and the OCS ops that drive
 * them, plus what survives a restart (targets, handles of running children). Transport-free; the
 * HTTP app and the daemon wrap it.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { OpRegistry } from '../ops/registry.js';
import type { Reply } from '../ops/types.js';
import type { SiteConfig } from '../site-config/types.js';
import type { ConfigState } from './config-state.js';
import type { Target } from './child/child.machine.js';
import type { RestartPolicyConfig } from './child/restart-policy.js';
import { watchFile } from './config-watch.js';
import { registerDockerOps } from './docker/docker-ops.js';
import { DockerSide } from './docker/docker-side.js';
import type Docker from 'dockerode';
import { registerHostManagerOps } from './ops.js';
import { clearChildLogic, runChildLogic } from './child/run-child.js';
import { Launcher } from './launcher/launcher.js';
import { nativeRunner, STATE_MARKER } from './process/native-driver.js';
import { findMarkedLeaders, processStartTime, signalGroup } from '../shared/proc.js';
import { planReattach } from './state/reattach.js';
import { StateDir } from './state/state-dir.js';
import { Supervisor, type RestoreOptions } from './supervisor.js';

export interface HostManagerOptions {
  config: ConfigState;
  logger: Logger;
  stateDir: string;
  /** Forces every child's starting target (OCS `--initial-state`). */
  initialState?: Target;
  restartPolicy?: RestartPolicyConfig;
  dockerServicePrefix?: string;
  /** `--docker-compose`: compose files whose services are docker children and passive rows. */
  dockerCompose?: string[];
  dockerComposeBin?: string;
  /** The engine client, required with `dockerCompose` (engine named by DOCKER_HOST, else the local socket). */
  dockerClient?: Docker;
  /** Called when the `die` task asks the process to exit. */
  onDie?: () => void;
}

/** Bound on bringing every child down; above the default 10 s grace so SIGKILL has landed. */
/**
 * Bringing every child down is given the longest `stop-timeout` and this margin, and never less
 * than the floor: a child gets its whole grace time, and shutdown still always ends.
 */
const STOP_MARGIN_MS = 5_000;
const MIN_STOP_DEADLINE_MS = 15_000;

export class HostManager {
  readonly registry: OpRegistry;
  readonly supervisor: Supervisor;
  readonly config: ConfigState;
  readonly state: StateDir;
  /** Null unless compose files were given. */
  readonly docker: DockerSide | null;
  readonly launcher: Launcher;
  private readonly logger: Logger;
  private watcher: { close(): Promise<void> } | null = null;
  /** `--initial-state`, until the manager's first start has applied it. */
  private initialState: Target | undefined;

  constructor(private readonly opts: HostManagerOptions) {
    this.config = opts.config;
    this.logger = opts.logger;
    this.initialState = opts.initialState;
    this.state = new StateDir(opts.stateDir);
    this.registry = new OpRegistry({ logger: opts.logger.child({ component: 'ops' }) });
    this.docker = opts.dockerCompose?.length && opts.dockerClient
      ? new DockerSide({
          docker: opts.dockerClient,
          files: opts.dockerCompose,
          prefix: opts.dockerServicePrefix ?? 'ocs-',
          bin: opts.dockerComposeBin,
          logger: opts.logger,
          report: (file, ok, message) => this.config.setStatus(file, ok, message),
          // Only a running manager has a table to re-resolve; a stopping one must not get children back.
          onChange: () => {
            if (this.registry.session('manager')?.status === 'running') this.supervisor.reapply();
          },
        })
      : null;
    this.launcher = new Launcher({
      onDeath: (why) => this.logger.error(`${why}: its running children are now watched by pid, and the next launch starts a new launcher`),
      onWithdrawn: (instance) => this.logger.warn({ instance }, 'the launcher relaunched a child that is not wanted up any more: killed it'),
    });
    const native = nativeRunner({ logDir: () => this.config.current?.logDir ?? 'logs', state: this.state, launcher: this.launcher });
    this.supervisor = new Supervisor({
      runChild: runChildLogic({ native, ...(this.docker ? { docker: this.docker.runner } : {}) }),
      ...(this.docker ? { clearChild: clearChildLogic(this.docker.clearer) } : {}),
      logger: opts.logger.child({ component: 'supervisor' }),
      ...(opts.restartPolicy ? { restartPolicy: opts.restartPolicy } : {}),
      ...(opts.dockerServicePrefix ? { dockerServicePrefix: opts.dockerServicePrefix } : {}),
      ...(this.docker ? { docker: this.docker.inventory } : {}),
    });
    this.supervisor.on('targets', () => this.state.saveTargets(this.supervisor.requestedTargets));
    registerHostManagerOps({
      registry: this.registry,
      supervisor: this.supervisor,
      config: this.config,
      stopDeadlineMs: () => this.stopDeadlineMs,
      onDie: () => setTimeout(() => opts.onDie?.(), 100).unref(),
      restore: (site) => this.restore(site),
      docker: this.docker,
    });
    if (this.docker) registerDockerOps(this.registry, this.docker);
  }

  /** The instance-id OCS clients address this host manager by. */
  get instanceId(): string {
    const site = this.config.current;
    return site?.hostManager?.instanceId ?? `hm-${site?.host ?? hostname()}`;
  }

  get addressRoot(): string {
    return this.config.current?.hub.addressRoot ?? 'observatory';
  }

  /**
   * Starts the `manager` process, as OCS's HostManager does when it starts. OCS passes
   * `--initial-state` as the manager's requests; here it comes with what the manager restores,
   * so it is not kept as if an operator had asked for it with `update`.
   */
  start(): Reply {
    this.launcher.start();
    return this.registry.start('manager', {});
  }

  /** How long bringing every child down may take: the manager SIGKILLs what is left after it. */
  get stopDeadlineMs(): number {
    return Math.max(MIN_STOP_DEADLINE_MS, this.supervisor.longestStopGraceMs + STOP_MARGIN_MS);
  }

  /** Stops every op (the manager brings its children down first), bounded by a deadline. */
  async stop(deadlineMs = this.stopDeadlineMs + STOP_MARGIN_MS): Promise<void> {
    await this.watcher?.close();
    this.watcher = null;
    await this.registry.stopAll(deadlineMs);
    this.launcher.close();
    await this.docker?.close();
  }

  /**
   * Applies SCF edits as they are saved, through the same `update(reload_config=True)` operators
   * can call, so an edit shows up in that task's session. A file that does not parse changes
   * nothing and is reported in `config_parse_status`.
   */
  watchConfig(file: string): void {
    this.watcher = watchFile(file, () => void this.reloadConfig());
  }

  /** Reads the site config again and applies it, as an edit of the file is (also on SIGHUP). */
  async reloadConfig(attempt = 0): Promise<void> {
    if (!this.registry.isRunning('manager')) {
      const { error } = this.config.reload();
      if (error) this.logger.error({ error }, 'site config edit not applied');
      return;
    }
    const [code] = this.registry.start('update', { reload_config: true });
    if (code === 0) {
      const [, , session] = await this.registry.wait('update', null);
      const messages = 'messages' in session ? session.messages.map((m) => m[1]) : [];
      const failure = messages.find((m) => m.startsWith('Site config not reloaded'));
      if (failure) this.logger.error(failure);
      else this.logger.info({ messages: messages.filter((m) => m.startsWith('Config applied')) }, 'site config edit applied');
    } else if (attempt < 50) {
      // An operator's update is running; apply the edit right after it.
      await this.registry.wait('update', 10);
      await this.reloadConfig(attempt + 1);
    }
  }

  private restore(site: SiteConfig): RestoreOptions {
    const marked = findMarkedLeaders(STATE_MARKER, this.state.dir, 'COX_INSTANCE_ID');
    const plan = planReattach(this.state.loadHandles(), site.instances, marked, processStartTime);
    for (const id of plan.forget) this.state.removeHandle(id);
    for (const { pid, instanceId, why } of plan.terminate) {
      this.logger.warn({ instance: instanceId, pid }, `terminating a process of the previous run: ${why}`);
      const grace = site.instances.find((i) => i.instanceId === instanceId)?.stopGraceMs ?? 10_000;
      signalGroup(pid, 'SIGTERM');
      setTimeout(() => signalGroup(pid, 'SIGKILL'), grace).unref();
    }
    for (const [id, { pid }] of plan.adopt) this.logger.info({ instance: id, pid }, `re-attached ${id} (pid ${pid})`);
    const initial = this.initialState;
    this.initialState = undefined;
    return { targets: this.state.loadTargets(), adopt: plan.adopt, ...(initial ? { initial } : {}) };
  }
}
