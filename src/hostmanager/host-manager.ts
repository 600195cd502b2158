/**
 * One host manager: the site config, the supervisor of its children and the OCS ops that drive
 * them. Transport-free; the HTTP app and the daemon wrap it.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { OpRegistry } from '../ops/registry.js';
import type { Reply } from '../ops/types.js';
import type { ConfigState } from './config-state.js';
import type { Target } from './child/child.machine.js';
import type { RestartPolicyConfig } from './child/restart-policy.js';
import { registerHostManagerOps } from './ops.js';
import { nativeRunChild } from './process/native-driver.js';
import { Supervisor } from './supervisor.js';

export interface HostManagerOptions {
  config: ConfigState;
  logger: Logger;
  /** Forces every child's starting target (OCS `--initial-state`). */
  initialState?: Target;
  restartPolicy?: RestartPolicyConfig;
  /** Called when the `die` task asks the process to exit. */
  onDie?: () => void;
}

/** Bound on bringing every child down; above the default 10 s grace so SIGKILL has landed. */
const STOP_DEADLINE_MS = 15_000;

export class HostManager {
  readonly registry: OpRegistry;
  readonly supervisor: Supervisor;
  readonly config: ConfigState;

  constructor(private readonly opts: HostManagerOptions) {
    this.config = opts.config;
    this.registry = new OpRegistry({ logger: opts.logger.child({ component: 'ops' }) });
    this.supervisor = new Supervisor({
      runChild: nativeRunChild(() => this.config.current?.logDir ?? 'logs'),
      logger: opts.logger.child({ component: 'supervisor' }),
      ...(opts.restartPolicy ? { restartPolicy: opts.restartPolicy } : {}),
    });
    registerHostManagerOps({
      registry: this.registry,
      supervisor: this.supervisor,
      config: this.config,
      stopDeadlineMs: STOP_DEADLINE_MS,
      onDie: () => setTimeout(() => opts.onDie?.(), 100).unref(),
    });
  }

  /** The instance-id OCS clients address this host manager by. */
  get instanceId(): string {
    const site = this.config.current;
    return site?.hostManager?.instanceId ?? `hm-${site?.host ?? hostname()}`;
  }

  get addressRoot(): string {
    return this.config.current?.hub.addressRoot ?? 'observatory';
  }

  /** Starts the `manager` process, as OCS's HostManager does when it starts. */
  start(): Reply {
    const requests = this.opts.initialState ? [['all', this.opts.initialState]] : [];
    return this.registry.start('manager', { requests });
  }

  /** Stops every op (the manager brings its children down first), bounded by a deadline. */
  async stop(deadlineMs = STOP_DEADLINE_MS + 5_000): Promise<void> {
    await this.registry.stopAll(deadlineMs);
  }
}
