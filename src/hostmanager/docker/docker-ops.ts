/**
 * The host manager's docker Tasks: `remove_orphans` (containers whose service left its compose
 * file; OCS left them running: its issue #363) and `docker_pull`.
 */
import { z } from 'zod';
import type { OpRegistry } from '../../ops/registry.js';
import { check } from '../../shared/validate.js';
import { COMPOSE_TIMEOUT_MS } from './compose-cli.js';
import type { DockerSide } from './docker-side.js';

const noParams = (raw: unknown) => check(z.object({}), raw ?? {}, 'params');
const pullParams = (raw: unknown) =>
  check(z.object({ services: z.array(z.string().min(1)).default([]), timeout: z.number().positive().optional() }), raw ?? {}, 'params');

export function registerDockerOps(registry: OpRegistry, docker: DockerSide): void {
  registry.registerTask('remove_orphans', {
    docstring:
      'remove_orphans()\n\nTask - removes (forcibly) every container of a managed compose file whose service is no longer ' +
      'in that file, as listed in the manager session\'s `orphans`.',
    parseParams: noParams,
    run: async ({ session }) => {
      const orphans = Object.entries(docker.inventory.orphans());
      const failed: string[] = [];
      for (const [name, o] of orphans) {
        try {
          await docker.engine.docker.getContainer(o.id).remove({ force: true });
          session.addMessage(`Removed ${name} (service "${o.service}" is no longer in ${o.compose_file}).`);
        } catch (err) {
          failed.push(`${name}: ${(err as Error).message}`);
        }
      }
      if (failed.length) return [false, `Could not remove ${failed.length} orphan containers: ${failed.join('; ')}`];
      return [true, `Removed ${orphans.length} orphan containers.`];
    },
  });

  registry.registerTask('docker_pull', {
    docstring:
      'docker_pull(services=[], timeout=120)\n\nTask - pulls the images of compose services (names, or SCF instance-ids ' +
      'that prefix makes into names; all services of every compose file when empty). Running containers are not ' +
      'restarted; `restart_required` shows which run an older image.',
    parseParams: pullParams,
    abortable: true,
    run: async ({ session, params, signal }) => {
      const byFile = new Map<string, { composeFile: string; project: string; given: string; services: string[] }>();
      const wanted = new Set(params.services);
      const found = new Set<string>();
      for (const { file, service } of docker.inventory.services()) {
        const match = [...wanted].find((w) => w === service.name || docker.inventory.find(w)?.service.name === service.name);
        if (wanted.size && match === undefined) continue;
        if (match !== undefined) found.add(match);
        const entry = byFile.get(file.file) ?? { composeFile: file.file, project: file.project, given: file.given, services: [] };
        entry.services.push(service.name);
        byFile.set(file.file, entry);
      }
      const unknown = [...wanted].filter((w) => !found.has(w));
      if (unknown.length) return [false, `No compose service for: ${unknown.join(', ')}`];
      const timeoutMs = (params.timeout ?? COMPOSE_TIMEOUT_MS / 1000) * 1000;
      for (const entry of byFile.values()) {
        session.addMessage(`Pulling ${entry.services.join(', ')} (${entry.given}).`);
        try {
          await docker.compose.run(entry, ['pull', ...entry.services], { signal, timeoutMs });
        } catch (err) {
          return [false, `docker_pull failed: ${(err as Error).message}`];
        }
      }
      return [true, `Pulled ${[...byFile.values()].reduce((n, e) => n + e.services.length, 0)} services.`];
    },
  });
}
