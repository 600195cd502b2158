import { describe, expect, it } from 'vitest';
import { belongsTo, fromFile, viewFromInspect, type InspectLike } from '../../../src/hostmanager/docker/containers.js';

const labels = (extra: Record<string, string>) => ({
  'com.docker.compose.project': 'lab',
  'com.docker.compose.service': 'ocs-a',
  'com.docker.compose.project.working_dir': '/srv/lab',
  'com.docker.compose.oneoff': 'False',
  ...extra,
});
const inspect = (l: Record<string, string>, running = true): InspectLike => ({
  Id: 'abc',
  Name: '/lab_ocs-a_1',
  Image: 'sha256:1',
  Config: { Image: 'x:1', Labels: l },
  State: { Running: running, Pid: running ? 42 : 0, ExitCode: running ? 0 : 137, StartedAt: '2026-01-01T00:00:00Z' },
});
const key = { composeFile: '/srv/lab/docker-compose.yaml', project: 'lab', service: 'ocs-a' };

describe('compose container labels', () => {
  it('matches v2 absolute config_files, and v1 relative ones wherever compose v1 was run from', () => {
    const from = (files: string, workingDir = '/srv/lab') =>
      belongsTo(viewFromInspect(inspect(labels({ 'com.docker.compose.project.config_files': files, 'com.docker.compose.project.working_dir': workingDir })))!, key);
    expect(from('/srv/lab/docker-compose.yaml')).toBe(true);
    expect(from('/srv/other/docker-compose.yaml')).toBe(false);
    // v1 labels -f as given: from /srv/lab, from /srv (its parent), from /srv/lab/sub (no -f), from /elsewhere.
    expect(from('docker-compose.yaml')).toBe(true);
    expect(from('lab/docker-compose.yaml')).toBe(true);
    expect(from('../docker-compose.yaml')).toBe(true);
    expect(from('../srv/lab/./docker-compose.yaml')).toBe(true);
    expect(from('extra.yaml,docker-compose.yaml')).toBe(true);
    // --project-directory . with the file below it.
    expect(from('lab/docker-compose.yaml', '/srv')).toBe(true);
    // Another file of the same name in another project directory, or another name.
    expect(from('docker-compose.yaml', '/opt/lab')).toBe(false);
    expect(from('other/docker-compose.yaml')).toBe(false);
    expect(from('lab/other.yaml')).toBe(false);
  });

  it('tells a service container of our file from one of another file, another project, or a one-off run', () => {
    const ours = viewFromInspect(inspect(labels({ 'com.docker.compose.project.config_files': 'docker-compose.yaml' })))!;
    expect(belongsTo(ours, key)).toBe(true);
    expect(fromFile(ours, key.composeFile, 'lab')).toBe(true);
    const otherFile = viewFromInspect(inspect(labels({ 'com.docker.compose.project.config_files': 'other.yaml' })))!;
    expect(belongsTo(otherFile, key)).toBe(false);
    const otherProject = viewFromInspect(inspect(labels({ 'com.docker.compose.project': 'lab2', 'com.docker.compose.project.config_files': 'docker-compose.yaml' })))!;
    expect(belongsTo(otherProject, key)).toBe(false);
    const oneoff = viewFromInspect(inspect(labels({ 'com.docker.compose.oneoff': 'True', 'com.docker.compose.project.config_files': 'docker-compose.yaml' })))!;
    expect(belongsTo(oneoff, key)).toBe(false);
  });

  it('keeps the pid only while running, the exit code only once stopped, and skips non-compose containers', () => {
    const l = labels({ 'com.docker.compose.project.config_files': 'docker-compose.yaml' });
    expect(viewFromInspect(inspect(l))).toMatchObject({ name: 'lab_ocs-a_1', running: true, pid: 42, exitCode: null, imageId: 'sha256:1', image: 'x:1' });
    expect(viewFromInspect(inspect(l, false))).toMatchObject({ running: false, pid: null, exitCode: 137 });
    expect(viewFromInspect(inspect({}))).toBeNull();
  });
});
