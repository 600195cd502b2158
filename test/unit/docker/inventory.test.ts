import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerView } from '../../../src/hostmanager/docker/containers.js';
import type { DockerEngine } from '../../../src/hostmanager/docker/engine.js';
import { ComposeInventory } from '../../../src/hostmanager/docker/inventory.js';

const dir = mkdtempSync(join(tmpdir(), 'cox-inv-'));
const project = dir.split('/').pop()!.toLowerCase();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'docker-compose.yaml');
const services = (...names: string[]) => `services:\n${names.map((n) => `  ${n}:\n    image: img:1\n`).join('')}`;

/** The part of DockerEngine the inventory reads, with containers and tags set by the test. */
function fakeEngine() {
  const containers: ContainerView[] = [];
  const tags = new Map<string, string>();
  const engine = {
    reachable: true,
    reason: 'connected',
    all: () => containers,
    find: (k: { project: string; service: string; composeFile: string }) =>
      containers.find((c) => c.project === k.project && c.service === k.service && c.configFiles.includes(k.composeFile)),
    imageIdOf: (tag: string) => tags.get(tag) ?? null,
    watchTags: () => {},
  };
  const add = (service: string, running: boolean, imageId = 'sha256:1') =>
    containers.push({ id: `${service}-id-0123456789`, name: `${project}_${service}_1`, project, service, configFiles: [file], workingDir: dir, oneoff: false, running, pid: running ? 7 : null, exitCode: null, image: 'img:1', imageId, startedAt: '2026-01-01T00:00:00Z' });
  return { engine, add, tags };
}

function make() {
  const f = fakeEngine();
  const reports: [string, boolean, string][] = [];
  const inv = new ComposeInventory({ files: [file], prefix: 'ocs-', engine: f.engine as unknown as DockerEngine, report: (...r) => reports.push(r) });
  return { inv, reports, ...f };
}

describe('ComposeInventory', () => {
  it('resolves `<prefix><id>` to its service, and says why not otherwise', () => {
    writeFileSync(file, services('ocs-a', 'sidecar'));
    const { inv, engine, reports } = make();
    expect(inv.reload()).toEqual([]);
    expect(reports).toEqual([[file, true, `OK: 2 services, project "${project}"`]]);
    expect(inv.resolve('a')).toEqual({ launch: { kind: 'docker', service: 'ocs-a', composeFile: file, project } });
    expect(inv.resolve('b')).toEqual({ reason: `docker-compose service "ocs-b" not found in ${file}` });
    engine.reachable = false;
    engine.reason = 'Docker Engine unreachable (connect ENOENT /var/run/docker.sock); retrying';
    expect(inv.resolve('a')).toEqual({ reason: engine.reason });
  });

  it('keeps the last good services when the file breaks, and reports the error', () => {
    writeFileSync(file, services('ocs-a'));
    const { inv, reports } = make();
    inv.reload();
    writeFileSync(file, 'services:\n  ocs-a: {image: [\n');
    expect(inv.reload()[0]).toMatch(new RegExp(`^${file}:\\d+: `));
    expect(reports.at(-1)![1]).toBe(false);
    expect('launch' in inv.resolve('a')).toBe(true);
  });

  it('shows unmatched services as passive rows with their container state', () => {
    writeFileSync(file, services('ocs-a', 'ocs-p', 'sidecar'));
    const { inv, add } = make();
    inv.reload();
    add('ocs-p', true);
    const rows = inv.passive(new Set(['a']));
    expect(rows.map((r) => [r.instance_id, r.agent_class, r.target_state, r.next_action, r.pid])).toEqual([
      ['p', '[docker]', 'passive', 'up', 7],
      ['sidecar', '[docker]', 'passive', 'down', null],
    ]);
    expect(inv.passive(new Set(['a', 'p', 'sidecar']))).toEqual([]);
  });

  it('lists containers whose service left the file as orphans, and flags retagged images', () => {
    writeFileSync(file, services('ocs-a'));
    const { inv, add, tags } = make();
    inv.reload();
    add('ocs-a', true, 'sha256:old');
    add('ocs-gone', false);
    expect(inv.orphans()).toEqual({ [`${project}_ocs-gone_1`]: { id: 'ocs-gone-id-', service: 'ocs-gone', project, compose_file: file, running: false } });
    expect(inv.restartRequired('a')).toBe(false);
    tags.set('img:1', 'sha256:new');
    expect(inv.restartRequired('a')).toBe(true);
    expect(inv.newTags()).toEqual({ 'ocs-a': 'img:1' });
  });
});
