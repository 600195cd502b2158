/**
 * `GET /metrics`: the controller's load for Prometheus. A client route (auth.ts): it needs the
 * token when the controller has one, as what it shows (node names, backlog) is the client API's
 * to see. Each scrape costs three small reads: live sessions, an index-only count of jobs per
 * state, and the per-node queue lengths the store keeps by trigger.
 */
import type { FastifyInstance } from 'fastify';
import { JOB_STATES } from '../../protocol/job.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type Metric } from '../../shared/prometheus.js';
import type { Controller } from '../controller.js';

export async function metricsRoutes(app: FastifyInstance, opts: { controller: Controller }): Promise<void> {
  app.get('/metrics', async (_req, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(renderPrometheus(await controllerMetrics(opts.controller))));
}

async function controllerMetrics(controller: Controller): Promise<Metric[]> {
  const [sessions, counts, lengths] = await Promise.all([controller.sessions(), controller.store.jobCounts(), controller.store.queueLengths()]);
  return [
    {
      name: 'coxswain_controller_sessions',
      help: 'Nodes seen within the session TTL (listSessions).',
      type: 'gauge',
      samples: [{ value: Object.keys(sessions).length }],
    },
    {
      name: 'coxswain_controller_jobs',
      help: 'Jobs kept in the store per state; finished ones count until retention prunes them.',
      type: 'gauge',
      // Every state, zeros included, so a query over a state never finds its series missing.
      samples: JOB_STATES.map((state) => ({ labels: { state }, value: counts.get(state) ?? 0 })),
    },
    {
      name: 'coxswain_controller_queue_length',
      help: 'Deliveries queued for or offered to the node, for nodes that have any.',
      type: 'gauge',
      samples: [...lengths].map(([node, n]) => ({ labels: { node }, value: n })),
    },
    {
      name: 'coxswain_controller_polls_waiting',
      help: 'Agent long polls waiting for work right now.',
      type: 'gauge',
      samples: [{ value: controller.polls.size }],
    },
  ];
}
