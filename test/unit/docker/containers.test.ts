import { describe, expect, it } from 'vitest';
import { belongsTo, configFilesOf, fromFile, viewFromInspect, type InspectLike } from '../../../src/hostmanager/docker/containers.js';

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
  it('resolves v1 config_files against working_dir and keeps v2 absolute paths', () => {
    expect(configFilesOf(labels({ 'com.docker.compose.project.config_files': 'docker-compose.yaml,extra.yaml' }))).toEqual([
      '/srv/lab/docker-compose.yaml',
      '/srv/lab/extra.yaml',
    ]);
    expect(configFilesOf(labels({ 'com.docker.compose.project.config_files': '/srv/lab/docker-compose.yaml' }))).toEqual(['/srv/lab/docker-compose.yaml']);
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
