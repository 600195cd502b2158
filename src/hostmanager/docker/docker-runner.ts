/**
 * The `runChild` actor for docker children: a compose service's container, reported to the child
 * machine like a process (SPAWNED with the container's host pid, EXITED when the engine reports its
 * death). up = `compose up -d <svc>`, down = `compose rm --stop --force <svc>`, KILL kills the
 * container. A container that is already running is adopted, never restarted.
 */
import type { Logger } from 'pino';
import type { ProcessReport } from '../child/child.machine.js';
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
      finish({ type: 'EXITED', code: c.exitCode, signal: null });
    };
    engine.on('container', onContainer);

    const up = async () => {
      const c = await bringUp(launch, instanceId, starting.signal);
      if (phase !== 'starting') return;
      if (!c?.running) {
        finish({ type: 'EXITED', code: c?.exitCode ?? null, signal: null });
        return;
      }
      id = c.id;
      phase = 'up';
      sendBack({ type: 'SPAWNED', pid: c.pid ?? 0 });
    };

    const bringUp = async (key: DockerLaunch, child: string, signal: AbortSignal): Promise<ContainerView | undefined> => {
      const existing = await engine.lookup(key);
      if (existing?.running) {
        log.info({ container: existing.name }, 'adopted a running container');
        return existing;
      }
      const file = inventory.defines(key);
      const mine = made.get(child);
      const service = file?.services.get(key.service);
      if (existing && file && mine?.id === existing.id && mine.digest === file.digest && !service?.hasDependencies && !inventory.restartRequired(child)) {
        await engine.docker.getContainer(existing.id).start();
        return engine.lookup(key);
      }
      await compose.run(key, ['up', '-d', key.service], { signal });
      const c = await engine.lookup(key);
      if (c && file) made.set(child, { id: c.id, digest: file.digest });
      return c;
    };

    const down = async () => {
      if (phase === 'done' || phase === 'stopping') return;
      if (deps.disowned() || !engine.reachable) {
        // Left running: a later run, or the engine's return, adopts it.
        log.info(deps.disowned() ? 'disowned: container left running' : 'engine unreachable: container left as it is');
        finish({ type: 'EXITED', code: null, signal: null });
        return;
      }
      phase = 'stopping';
      starting.abort();
      try {
        if (inventory.defines(launch)) {
          await compose.run(launch, ['rm', '--stop', '--force', launch.service]);
        } else {
          // Its service left the compose file: stopped, and kept as an orphan for `remove_orphans`.
          const c = await engine.lookup(launch);
          if (c?.running) await engine.docker.getContainer(c.id).stop();
        }
      } catch (err) {
        log.error({ err }, 'could not bring the container down through compose; removing it directly');
        const c = await engine.lookup(launch).catch(() => undefined);
        if (c) await engine.docker.getContainer(c.id).remove({ force: true }).catch((e: Error) => log.error({ err: e }, 'container not removed'));
      }
      finish({ type: 'EXITED', code: exitCode, signal: null });
    };

    const kill = () => {
      const target = id ?? engine.find(launch)?.id;
      if (target) void engine.docker.getContainer(target).kill().catch(() => undefined);
    };

    receive((command) => (command.type === 'TERM' ? void down() : kill()));
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
