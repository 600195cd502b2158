/**
 * The `runChild` actor for docker children: a compose service's container, reported to the child
 * machine like a process (SPAWNED with the container's host pid, EXITED when the engine reports its
 * death). up = `compose up -d <svc>`, down = `compose rm --stop --force <svc>`, KILL kills the
 * container. A container that is already running is adopted, never restarted. `dockerClearer` is
 * the same `down` for a child that has no container of its own in the machine.
 */
import type { Logger } from 'pino';
import type { ClearChildInput, ProcessReport } from '../child/child.machine.js';
import { isDockerLaunch, type DockerLaunch } from '../child/launch.js';
import type { ChildRunner } from '../child/run-child.js';
import { ComposeNotFoundError, type ComposeCli } from './compose-cli.js';
import type { ContainerView } from './containers.js';
import type { DockerEngine } from './engine.js';
import type { ComposeInventory } from './inventory.js';

export interface DockerRunnerDeps {
  engine: DockerEngine;
  compose: ComposeCli;
  inventory: ComposeInventory;
  logger: Logger;
  /** Set by `die(disown_dockers=True)`: a TERM then leaves the container running. */
  disowned: () => boolean;
}

type Phase = 'starting' | 'up' | 'stopping' | 'done';

/** An exit the engine gave no code for, e.g. a container removed while its events were not followed. */
const NO_EXIT_CODE = 'exited (no exit code reported by the engine)';

export function dockerRunner(deps: DockerRunnerDeps): ChildRunner {
  const { engine, compose, inventory } = deps;
  /**
   * The container each child last got from `compose up`, with the compose file's digest then.
   * While both still hold, a relaunch starts that container directly: what `compose up` would do,
   * without the compose CLI's start-up time (half a second for v1).
   */
  const made = new Map<string, { id: string; digest: string }>();

  return ({ input, sendBack, receive }) => {
    const { instanceId, launch } = input;
    if (!isDockerLaunch(launch)) throw new Error(`docker runner given a native launch for ${instanceId}`);
    const log = deps.logger.child({ instance: instanceId, service: launch.service });
    const starting = new AbortController();
    let phase: Phase = 'starting';
    let id: string | null = null;
    let exitCode: number | null = null;

    const finish = (report: ProcessReport) => {
      if (phase === 'done') return;
      phase = 'done';
      engine.off('container', onContainer);
      sendBack(report);
    };
    const onContainer = (c: ContainerView, at: number | null) => {
      if (c.id !== id || c.running) return;
      exitCode = c.exitCode;
      if (phase !== 'up') return;
      if (at !== null) log.info({ container: c.name, exit_code: c.exitCode, event_at: at, lag_ms: Date.now() - at }, 'container died');
      finish({ type: 'EXITED', code: c.exitCode, signal: null, note: NO_EXIT_CODE });
    };
    engine.on('container', onContainer);

    const up = async () => {
      const c = await bringUp(launch, instanceId, starting.signal);
      if (phase !== 'starting') return;
      if (!c.running) {
        finish({ type: 'EXITED', code: c.exitCode, signal: null, note: NO_EXIT_CODE });
        return;
      }
      id = c.id;
      phase = 'up';
      sendBack({ type: 'SPAWNED', pid: c.pid ?? 0 });
    };

    const bringUp = async (key: DockerLaunch, child: string, signal: AbortSignal): Promise<ContainerView> => {
      const existing = await engine.lookup(key);
      if (existing?.running) {
        log.info({ container: existing.name }, 'adopted a running container');
        return existing;
      }
      const file = inventory.defines(key);
      const mine = made.get(child);
      const service = file?.services.get(key.service);
      const startDirectly = existing && file && mine?.id === existing.id && mine.digest === file.digest && !service?.hasDependencies && !inventory.restartRequired(child);
      if (startDirectly) await engine.docker.getContainer(existing.id).start();
      else await compose.run(key, ['up', '-d', key.service], { signal });
      const c = await engine.lookup(key);
      // Not a crash: whatever compose left running goes on running, and the reason must say why.
      if (!c) throw new Error(await unmatchedAfterUp(engine, key));
      if (file) made.set(child, { id: c.id, digest: file.digest });
      return c;
    };

    const down = async () => {
      if (phase === 'done' || phase === 'stopping') return;
      const left = leftAlone(deps);
      if (left) {
        log.info(left);
        finish({ type: 'EXITED', code: null, signal: null, note: left });
        return;
      }
      phase = 'stopping';
      starting.abort();
      await removeService(deps, launch, log);
      finish({ type: 'EXITED', code: exitCode, signal: null, note: NO_EXIT_CODE });
    };

    receive((command) => (command.type === 'TERM' ? void down() : killService(engine, launch, id)));
    up().catch((err: Error) => {
      if (phase !== 'starting') return;
      finish({ type: 'SPAWN_FAILED', message: err.message, recoverable: !(err instanceof ComposeNotFoundError) });
    });
    // A container outlives the host manager by design; the next run adopts it. Only a compose
    // command still bringing it up is stopped here.
    return () => {
      starting.abort();
      engine.off('container', onContainer);
    };
  };
}

/**
 * The `clearChild` actor for docker children: `down` for a child the machine holds no container
 * of, as one may run all the same (started by hand, or left by a `compose up` that failed).
 */
export function dockerClearer(deps: DockerRunnerDeps): ChildRunner<ClearChildInput> {
  return ({ input, sendBack, receive }) => {
    const { instanceId, launch } = input;
    if (!isDockerLaunch(launch)) throw new Error(`docker clearer given a native launch for ${instanceId}`);
    const log = deps.logger.child({ instance: instanceId, service: launch.service });
    let done = false;
    const finish = (note: string) => {
      if (done) return;
      done = true;
      sendBack({ type: 'EXITED', code: null, signal: null, note });
    };
    receive(() => killService(deps.engine, launch, null));
    const left = leftAlone(deps);
    if (left) {
      log.info(left);
      finish(left);
    } else {
      void removeService(deps, launch, log).then(() => finish('service brought down'));
    }
    return () => {
      done = true;
    };
  };
}

/** Why a container is left as it is rather than brought down; null when it is brought down. */
function leftAlone(deps: DockerRunnerDeps): string | null {
  // Left running: a later run, or the engine's return, adopts it.
  if (deps.disowned()) return 'disowned: container left running';
  return deps.engine.reachable ? null : 'engine unreachable: container left as it is';
}

/** `compose rm --stop --force`; a service that left its compose file is only stopped, kept as an orphan for `remove_orphans`. */
async function removeService(deps: DockerRunnerDeps, launch: DockerLaunch, log: Logger): Promise<void> {
  const { engine, compose, inventory } = deps;
  try {
    if (inventory.defines(launch)) {
      await compose.run(launch, ['rm', '--stop', '--force', launch.service]);
    } else {
      const c = await engine.lookup(launch);
      if (c?.running) await engine.docker.getContainer(c.id).stop();
    }
  } catch (err) {
    log.error({ err }, 'could not bring the container down through compose; removing it directly');
    const c = await engine.lookup(launch).catch(() => undefined);
    if (c) await engine.docker.getContainer(c.id).remove({ force: true }).catch((e: Error) => log.error({ err: e }, 'container not removed'));
  }
}

/** Kills the container `id`, else whichever the service has. */
function killService(engine: DockerEngine, launch: DockerLaunch, id: string | null): void {
  const target = id ?? engine.find(launch)?.id;
  if (target) void engine.docker.getContainer(target).kill().catch(() => undefined);
}

/** Why the service came up and left no container created from our compose file. */
async function unmatchedAfterUp(engine: DockerEngine, key: DockerLaunch): Promise<string> {
  const what = `${key.service} was brought up`;
  const all = await engine.ofService(key);
  const c = all.find((x) => x.running) ?? all[0];
  if (!c) return `${what}, but the engine holds no container of it`;
  return `${what}, but its container ${c.name} was created from ${c.configFiles.join(', ') || 'no compose file'} (working dir ${c.workingDir}), not from ${key.composeFile}`;
}
