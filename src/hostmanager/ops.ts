/**
 * The host manager's OCS operations (REFERENCE 1.2): the `manager` Process that supervises the
 * children while it runs, and the `update` and `die` Tasks.
 */
import { z } from 'zod';
import type { OpRegistry } from '../ops/registry.js';
import type { OpSession } from '../ops/session.js';
import { check } from '../shared/validate.js';
import type { ConfigState } from './config-state.js';
import type { DockerSide } from './docker/docker-side.js';
import type { SiteConfig } from '../site-config/types.js';
import type { RestoreOptions, Supervisor, TargetRequest } from './supervisor.js';

const requestsSchema = z.array(z.tuple([z.string().min(1), z.enum(['up', 'down'])])).default([]);

const parser =
  <S extends z.ZodType>(schema: S) =>
  (raw: unknown): z.output<S> =>
    check(schema, raw ?? {}, 'params');

const managerParams = parser(z.object({ requests: requestsSchema, reload_config: z.boolean().default(true) }));
const updateParams = parser(z.object({ requests: requestsSchema, reload_config: z.boolean().default(false) }));
const dieParams = parser(z.object({ disown_dockers: z.boolean().default(false) }));

export interface HostManagerOpsDeps {
  registry: OpRegistry;
  supervisor: Supervisor;
  config: ConfigState;
  /** Bound on bringing every child down when `manager` stops. */
  /** Read when the stop begins: the children, and so their longest grace time, change. */
  stopDeadlineMs: () => number;
  /** Called after `die` has stopped the manager; the daemon then exits. */
  onDie: (opts: { disownDockers: boolean }) => void;
  /** What the manager restores from an earlier run when it starts (targets, running children). */
  restore: (site: SiteConfig) => RestoreOptions;
  /** Present when compose files were given: re-read with the SCF, orphans, disowning. */
  docker?: DockerSide | null;
}

/** Session data is republished at most this often while children change state in bulk. */
const PUBLISH_INTERVAL_MS = 100;

export function registerHostManagerOps(deps: HostManagerOpsDeps): void {
  const { registry, supervisor, config } = deps;

  const publish = (session: OpSession) => {
    session.data = {
      child_states: supervisor.states(),
      config_parse_status: config.parseStatus,
      ...(deps.docker?.sessionData() ?? { orphans: {}, new_tags: {} }),
    };
  };

  const reload = (session: OpSession, restoring = false): boolean => {
    for (const e of deps.docker?.inventory.reload() ?? []) session.addMessage(`Compose file not reloaded, keeping the last good one: ${e}`);
    const { config: site, error } = config.reload();
    if (error) session.addMessage(`Site config not reloaded, keeping the last good one: ${error}`);
    if (site === null) return false;
    const restore = restoring ? deps.restore(site) : {};
    if (restore.adopt?.size) session.addMessage(`Re-attached ${restore.adopt.size} children of the previous run.`);
    // Containers already running are supervised from the start, so a `down` one is brought down.
    const adopt = new Map([...(restore.adopt ?? []), ...(deps.docker?.adoptees(site) ?? [])]);
    const { added, changed, removed } = supervisor.apply(site, { ...restore, adopt });
    for (const w of site.warnings) session.addMessage(`Warning: ${w.message}`);
    if (added.length + changed.length + removed.length > 0) {
      session.addMessage(`Config applied: ${added.length} added, ${changed.length} changed, ${removed.length} removed.`);
    }
    return true;
  };

  const applyRequests = (session: OpSession, requests: TargetRequest[]) => {
    for (const id of supervisor.setTargets(requests)) session.addMessage(`Unknown instance "${id}"; request ignored.`);
  };

  registry.registerProcess('manager', {
    docstring:
      'manager(requests=[], reload_config=True)\n\nProcess - keeps every child agent of this host in its target state. ' +
      'When stopped, brings every child down first.',
    parseParams: managerParams,
    run: async ({ session, params, signal }) => {
      if (!reload(session, true)) return [false, 'No usable site config; manager not started.'];
      applyRequests(session, params.requests);
      let timer: NodeJS.Timeout | null = null;
      const schedule = () => {
        timer ??= setTimeout(() => {
          timer = null;
          publish(session);
        }, PUBLISH_INTERVAL_MS);
      };
      publish(session);
      supervisor.on('change', schedule);
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      session.addMessage('Stop requested; bringing every child down.');
      await supervisor.stopAll(deps.stopDeadlineMs());
      supervisor.off('change', schedule);
      if (timer) clearTimeout(timer);
      publish(session);
      return [true, 'Exited.'];
    },
  });

  registry.registerTask('update', {
    docstring:
      "update(requests=[], reload_config=False)\n\nTask - sets target states, e.g. requests=[('all', 'up'), ('data1', 'down')], " +
      'applied in order. With reload_config, the site config is re-read first.',
    parseParams: updateParams,
    run: async ({ session, params }) => {
      if (!registry.isRunning('manager')) return [false, 'Manager process is not running; params not updated.'];
      if (params.reload_config) reload(session);
      applyRequests(session, params.requests);
      return [true, 'Update requested.'];
    },
  });

  registry.registerTask('die', {
    docstring:
      'die(disown_dockers=False)\n\nTask - stops the manager process (bringing children down) and exits the host manager. ' +
      'With disown_dockers, docker children are left running.',
    parseParams: dieParams,
    run: async ({ session, params }) => {
      if (params.disown_dockers) deps.docker?.disown();
      if (registry.isRunning('manager')) {
        registry.stop('manager');
        session.addMessage('Waiting for the manager process to exit.');
        await registry.wait('manager', null);
      }
      deps.onDie({ disownDockers: params.disown_dockers });
      return [true, 'This HostManager will terminate in about 1 second.'];
    },
  });
}
