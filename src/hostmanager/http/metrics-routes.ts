/**
 * `GET /metrics`: the children's states for Prometheus, from the same rows `cox status` shows.
 * Every series of a child is keyed by `instance_id`; `coxswain_child_up` also carries its
 * `agent_class` and `kind` (native or docker), to group or join on. Behind the app's token like every other route.
 */
import type { FastifyInstance } from 'fastify';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type Metric } from '../../shared/prometheus.js';
import { coxVersion } from '../../shared/version.js';
import type { ChildState } from '../child/child-state.js';
import type { HostManager } from '../host-manager.js';

export async function metricsRoutes(app: FastifyInstance, opts: { hm: HostManager }): Promise<void> {
  app.get('/metrics', async (_req, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(renderPrometheus(hostManagerMetrics(opts.hm))));
}

const flag = (b: boolean): number => (b ? 1 : 0);

/**
 * OCS shows a docker instance's class as `Class[d]` (`[d?]` while its compose service is
 * missing) and a passive service as `[docker]`; a label must not change with that display.
 */
export function classOf(shown: string): { agent_class: string; kind: 'docker' | 'native' } {
  const m = /^(.*)\[d\??\]$/.exec(shown);
  if (m) return { agent_class: m[1]!, kind: 'docker' };
  return shown === '[docker]' ? { agent_class: '', kind: 'docker' } : { agent_class: shown, kind: 'native' };
}

function hostManagerMetrics(hm: HostManager): Metric[] {
  const children = hm.supervisor.states();
  const perChild = (value: (c: ChildState) => number, rows: readonly ChildState[] = children) =>
    rows.map((c) => ({ labels: { instance_id: c.instance_id }, value: value(c) }));
  // Passive rows are compose services with no SCF entry: nothing supervises them, so they have
  // no crash count to report.
  const supervised = children.filter((c) => c.target_state !== 'passive');
  return [
    {
      name: 'coxswain_hostmanager_info',
      help: 'Always 1; the labels name this host manager.',
      type: 'gauge',
      samples: [{ labels: { host: hm.config.current?.host ?? '', instance_id: hm.instanceId, version: coxVersion() }, value: 1 }],
    },
    {
      name: 'coxswain_manager_running',
      help: 'Whether the manager process runs; while it is stopped no child is supervised.',
      type: 'gauge',
      samples: [{ value: flag(hm.registry.isRunning('manager')) }],
    },
    {
      name: 'coxswain_config_ok',
      help: 'Whether the config file last read without error ([SCF] is the site config); on error the last good one stays in use.',
      type: 'gauge',
      samples: Object.entries(hm.config.parseStatus).map(([file, [ok]]) => ({ labels: { file }, value: flag(ok) })),
    },
    {
      name: 'coxswain_child_up',
      help: 'Whether the child is running (next_action up).',
      type: 'gauge',
      samples: children.map((c) => ({ labels: { instance_id: c.instance_id, ...classOf(c.agent_class) }, value: flag(c.next_action === 'up') })),
    },
    {
      name: 'coxswain_child_target_up',
      help: 'Whether the child is wanted up.',
      type: 'gauge',
      samples: perChild((c) => flag(c.target_state === 'up')),
    },
    {
      name: 'coxswain_child_state',
      help: "Always 1, one series per child; the state label is the child's next_action (down, wait_start, up, wait_dead, start_at, ?).",
      type: 'gauge',
      samples: children.map((c) => ({ labels: { instance_id: c.instance_id, state: c.next_action }, value: 1 })),
    },
    {
      name: 'coxswain_child_stability',
      help: 'OCS stability score, 0 to 1: 1 with no unexpected exit in the last 2 minutes; at 0.5 or below the child is unstable.',
      type: 'gauge',
      samples: perChild((c) => c.stability),
    },
    {
      name: 'coxswain_child_crashes_total',
      help: 'Unexpected exits since the host manager began supervising the child.',
      type: 'counter',
      samples: perChild((c) => c.crashes, supervised),
    },
  ];
}
