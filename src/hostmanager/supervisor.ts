/**
 * Holds one child machine per SCF instance and reconciles the table with the site config
 * (REFERENCE 1.2). Everything that touches processes goes through the `runChild` actor given to
 * the constructor, so the same supervisor runs native processes, docker services or fakes.
 */
import { EventEmitter } from 'node:events';
import { createActor, type Actor, type AnyActorLogic } from 'xstate';
import type { Logger } from 'pino';
import type { InstanceConfig, SiteConfig } from '../site-config/types.js';
import { childMachine, nextAction, type Adoptee, type ChildMachine, type ChildSpec, type Target } from './child/child.machine.js';
import { childState, type ChildState } from './child/child-state.js';
import type { DockerLaunch } from './child/launch.js';
import { DEFAULT_RESTART_POLICY, type RestartPolicyConfig } from './child/restart-policy.js';

export interface SupervisorOptions {
  runChild: AnyActorLogic;
  /** Brings down a docker child's service when the machine holds no container of it (see `clearing`). */
  clearChild?: AnyActorLogic;
  logger: Logger;
  now?: () => number;
  rand?: () => number;
  restartPolicy?: RestartPolicyConfig;
  /** With the instance-id, names the compose service of a `manage: docker` instance. */
  dockerServicePrefix?: string;
  /** The compose services found, when the host manager was given compose files. */
  docker?: DockerInventory;
}

/** What the docker side knows of compose services; see hostmanager/docker/. */
export interface DockerInventory {
  /** The compose service of an SCF docker instance, or why there is none. */
  resolve(instanceId: string): { launch: DockerLaunch } | { reason: string };
  /** Services that match no SCF instance, shown as passive `[docker]` rows. */
  passive(configured: ReadonlySet<string>): ChildState[];
  /** Whether the instance's container runs an image other than the one its tag now names. */
  restartRequired(instanceId: string): boolean;
}

interface Entry {
  config: InstanceConfig;
  /** What the child machine was last given; docker instances resolve through the inventory. */
  spec: ChildSpec;
  actor: Actor<ChildMachine>;
  /** Gone from the SCF (or now `ignore`): dropped from the table once down. */
  removed: boolean;
  lastAction: string;
}

export type TargetRequest = [instanceId: string, target: Target];

/** What a restarted host manager restores when it first applies the SCF. */
export interface RestoreOptions {
  /** Targets set by `update` before the restart; they win over `manage`. */
  targets?: ReadonlyMap<string, Target>;
  /**
   * `--initial-state`: every child's starting target, over `targets` and `manage`. Not an
   * `update`, so not kept; the targets it overrides are forgotten.
   */
  initial?: Target;
  /** Processes of the previous run to supervise instead of launching. */
  adopt?: ReadonlyMap<string, Adoptee>;
}

const SETTLED = new Set(['down', '?']);

export class Supervisor extends EventEmitter<{ change: []; targets: [] }> {
  private readonly children = new Map<string, Entry>();
  /** Targets operators asked for through `update`, which persist across restarts. */
  private readonly requested = new Map<string, Target>();
  private readonly machine: ChildMachine;
  private readonly now: () => number;
  private readonly rand: () => number;
  private readonly policy: RestartPolicyConfig;
  private lastConfig: SiteConfig | null = null;

  constructor(private readonly opts: SupervisorOptions) {
    super();
    const actors = { runChild: opts.runChild, ...(opts.clearChild ? { clearChild: opts.clearChild } : {}) };
    this.machine = childMachine.provide({ actors }) as ChildMachine;
    this.now = opts.now ?? Date.now;
    this.rand = opts.rand ?? Math.random;
    this.policy = opts.restartPolicy ?? DEFAULT_RESTART_POLICY;
  }

  /**
   * Applies a (re)loaded SCF: new instances are added with the target of their `manage` value,
   * instances whose launch-relevant fields changed are restarted if up, removed or `ignore`d ones
   * are brought down and dropped, and the rest is left alone. A removed instance forgets the
   * target operators asked for: back in the SCF, even before it was dropped, it is a new
   * instance, whose target comes from `manage`.
   */
  apply(config: SiteConfig, restore: RestoreOptions = {}): { added: string[]; changed: string[]; removed: string[] } {
    this.lastConfig = config;
    const added: string[] = [];
    const changed: string[] = [];
    const removed: string[] = [];
    let forgot = false;
    const wanted = new Map(config.instances.filter((i) => i.manage !== 'ignore').map((i) => [i.instanceId, i]));
    for (const [id, entry] of this.children) {
      const next = wanted.get(id);
      if (next === undefined) {
        if (!entry.removed) removed.push(id);
        forgot = this.requested.delete(id) || forgot;
        entry.removed = true;
        entry.actor.send({ type: 'SET_TARGET', target: 'down' });
        continue;
      }
      if (entry.removed) {
        entry.removed = false;
        entry.actor.send({ type: 'SET_TARGET', target: manageTarget(next) });
      }
      const before = entry.spec;
      const beforeKey = launchKey(entry.config, before);
      entry.config = next;
      entry.spec = this.spec(next);
      if (beforeKey !== launchKey(next, entry.spec)) {
        changed.push(id);
        entry.actor.send({ type: 'RECONFIGURE', ...entry.spec });
      } else if (before.stopGraceMs !== entry.spec.stopGraceMs || JSON.stringify(before.policy) !== JSON.stringify(entry.spec.policy)) {
        entry.actor.send({ type: 'TUNE', stopGraceMs: entry.spec.stopGraceMs, policy: entry.spec.policy });
      }
    }
    for (const [id, instance] of wanted) {
      if (this.children.has(id)) continue;
      added.push(id);
      const restored = restore.initial ? undefined : restore.targets?.get(id);
      if (restored) this.requested.set(id, restored);
      this.add(instance, restore.initial ?? restored, restore.adopt?.get(id));
    }
    // Restored targets of instances no longer in the SCF, or overridden, are forgotten too.
    forgot ||= [...(restore.targets?.keys() ?? [])].some((id) => !this.requested.has(id));
    this.dropSettledRemovals();
    this.emit('change');
    if (forgot) this.emit('targets');
    return { added, changed, removed };
  }

  /** Applies the last SCF again, e.g. after the compose files changed what docker instances resolve to. */
  reapply(): void {
    if (this.lastConfig) this.apply(this.lastConfig);
  }

  /** Applies target requests in order; `all` matches every child. Returns unknown ids. */
  setTargets(requests: readonly TargetRequest[]): string[] {
    const unknown: string[] = [];
    const set = (id: string, entry: Entry, target: Target) => {
      this.requested.set(id, target);
      entry.actor.send({ type: 'SET_TARGET', target });
    };
    for (const [id, target] of requests) {
      if (id === 'all') {
        for (const [each, entry] of this.children) if (!entry.removed) set(each, entry, target);
        continue;
      }
      const entry = this.children.get(id);
      if (entry === undefined || entry.removed) unknown.push(id);
      else set(id, entry, target);
    }
    if (requests.length > unknown.length) this.emit('targets');
    return unknown;
  }

  states(): ChildState[] {
    const now = this.now();
    const rows = [...this.children.values()].map((e) => {
      const row = childState(this.displayClass(e), e.actor.getSnapshot(), now, e.removed ? 'down' : undefined);
      if (isDocker(e.config)) row.restart_required = this.opts.docker?.restartRequired(e.config.instanceId) ?? false;
      return row;
    });
    const configured = new Set(this.lastConfig?.instances.map((i) => i.instanceId) ?? []);
    return this.opts.docker ? [...rows, ...this.opts.docker.passive(configured)] : rows;
  }

  get requestedTargets(): ReadonlyMap<string, Target> {
    return this.requested;
  }

  has(id: string): boolean {
    const entry = this.children.get(id);
    return entry !== undefined && !entry.removed;
  }

  get size(): number {
    return this.children.size;
  }

  /** The longest `stop-timeout` of the children: how long bringing them all down may take. */
  get longestStopGraceMs(): number {
    return Math.max(0, ...[...this.children.values()].map((e) => e.spec.stopGraceMs));
  }

  /** True while some child has been launched and has no process yet (or a failure to show). */
  get launching(): boolean {
    for (const e of this.children.values()) if (e.actor.getSnapshot().matches({ running: 'starting' })) return true;
    return false;
  }

  /**
   * Brings every child down and empties the table. After `deadlineMs` the machines are stopped,
   * which SIGKILLs any process group still alive, so shutdown always ends.
   */
  async stopAll(deadlineMs: number): Promise<void> {
    for (const entry of this.children.values()) entry.removed = true;
    this.setTargetsOnAll('down');
    this.dropSettledRemovals();
    await this.waitFor(() => this.children.size === 0, deadlineMs);
    for (const entry of this.children.values()) entry.actor.stop();
    this.children.clear();
    this.emit('change');
  }

  /** Resolves once `done()` holds (checked on every change) or the deadline passes. */
  waitFor(done: () => boolean, deadlineMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.off('change', check);
        resolve(ok);
      };
      const check = () => {
        if (done()) finish(true);
      };
      const timer = setTimeout(() => finish(done()), deadlineMs);
      this.on('change', check);
    });
  }

  private setTargetsOnAll(target: Target): void {
    for (const entry of this.children.values()) entry.actor.send({ type: 'SET_TARGET', target });
  }

  private add(instance: InstanceConfig, target?: Target, adopt?: Adoptee): void {
    const spec = this.spec(instance);
    const actor = createActor(this.machine, {
      input: {
        instanceId: instance.instanceId,
        target: target ?? manageTarget(instance),
        adopt: adopt ?? null,
        ...spec,
        now: this.now,
        rand: this.rand,
      },
    });
    const entry: Entry = { config: instance, spec, actor, removed: false, lastAction: '' };
    this.children.set(instance.instanceId, entry);
    actor.subscribe({
      next: (snapshot) => {
        const action = nextAction(snapshot.value);
        if (action === entry.lastAction) return;
        this.opts.logger.info(
          { instance: instance.instanceId, from: entry.lastAction || null, to: action, target: snapshot.context.target, reason: snapshot.context.reason },
          `${instance.instanceId}: ${entry.lastAction || 'new'} -> ${action}`,
        );
        entry.lastAction = action;
        if (entry.removed && SETTLED.has(action)) this.dropSettledRemovals();
        this.emit('change');
      },
      error: (err) => this.opts.logger.error({ err, instance: instance.instanceId }, 'child machine failed'),
    });
    actor.start();
  }

  private dropSettledRemovals(): void {
    for (const [id, entry] of this.children) {
      if (!entry.removed || !SETTLED.has(nextAction(entry.actor.getSnapshot().value))) continue;
      entry.actor.stop();
      this.children.delete(id);
    }
  }

  /** OCS marks docker instances `[d]`, or `[d?]` when no compose service was found for them. */
  private displayClass(entry: Entry): string {
    if (!isDocker(entry.config)) return entry.config.agentClass;
    return `${entry.config.agentClass}${entry.spec.launch ? '[d]' : '[d?]'}`;
  }

  private spec(instance: InstanceConfig): ChildSpec {
    const base = { stopGraceMs: instance.stopGraceMs, policy: this.policyFor(instance) };
    if (!isDocker(instance)) return { ...base, launch: instance.launch, notOperableReason: instance.notOperableReason ?? null };
    const service = `${this.opts.dockerServicePrefix ?? 'ocs-'}${instance.instanceId}`;
    const found = this.opts.docker?.resolve(instance.instanceId) ?? {
      reason: `docker-compose service "${service}" not found: no compose file given (--docker-compose)`,
    };
    return 'launch' in found ? { ...base, launch: found.launch, notOperableReason: null } : { ...base, launch: null, notOperableReason: found.reason };
  }

  private policyFor(instance: InstanceConfig): RestartPolicyConfig {
    return { ...this.policy, ...instance.restart };
  }
}

function manageTarget(instance: InstanceConfig): Target {
  return instance.manage.endsWith('/up') ? 'up' : 'down';
}

function isDocker(instance: InstanceConfig): boolean {
  return instance.manage.startsWith('docker/');
}

/** The fields whose change means the running process no longer matches its config. */
function launchKey(instance: InstanceConfig, spec: ChildSpec): string {
  return JSON.stringify([instance.agentClass, instance.manage.split('/')[0], spec.launch, spec.notOperableReason]);
}
