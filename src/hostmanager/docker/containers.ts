/**
 * What the host manager keeps of a compose container, and which service of which compose file it
 * belongs to. Pure: built from the engine's inspect answer or an event's attributes.
 */
import { isAbsolute, resolve } from 'node:path';

export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  configFiles: 'com.docker.compose.project.config_files',
  workingDir: 'com.docker.compose.project.working_dir',
  oneoff: 'com.docker.compose.oneoff',
} as const;

export interface ContainerView {
  id: string;
  name: string;
  project: string;
  service: string;
  /** Absolute paths of the compose files the container was created from. */
  configFiles: string[];
  /** A `compose run` container, never a service's own. */
  oneoff: boolean;
  running: boolean;
  /** Host pid of the container's init process while running; null when not known yet. */
  pid: number | null;
  exitCode: number | null;
  /** The image reference it was created from (`Config.Image`). */
  image: string;
  /** The image it actually runs (`sha256:…`); null until inspected. */
  imageId: string | null;
  startedAt: string | null;
}

/** A compose service in one compose file: what a docker child (or passive row) stands for. */
export interface ServiceKey {
  composeFile: string;
  project: string;
  service: string;
}

/**
 * Compose v1 (Debian's 1.29.2) writes `config_files` as given on its command line, which may be
 * relative to `working_dir`; v2 writes absolute paths. Both are resolved here so they compare.
 */
export function configFilesOf(labels: Record<string, string>): string[] {
  const dir = labels[LABEL.workingDir] ?? '/';
  return (labels[LABEL.configFiles] ?? '')
    .split(',')
    .filter(Boolean)
    .map((f) => (isAbsolute(f) ? resolve(f) : resolve(dir, f)));
}

/** A container started from another compose file with the same service name is not ours. */
export function belongsTo(c: ContainerView, key: ServiceKey): boolean {
  return !c.oneoff && c.project === key.project && c.service === key.service && c.configFiles.includes(key.composeFile);
}

/** Containers of a compose project created from `composeFile`, whatever their service. */
export function fromFile(c: ContainerView, composeFile: string, project: string): boolean {
  return !c.oneoff && c.project === project && c.configFiles.includes(composeFile);
}

/** The compose labels alone, from an inspect answer or an event's `Actor.Attributes`. */
export function viewFromLabels(id: string, name: string, image: string, labels: Record<string, string>): ContainerView | null {
  const project = labels[LABEL.project];
  const service = labels[LABEL.service];
  if (project === undefined || service === undefined) return null;
  return {
    id,
    name: name.replace(/^\//, ''),
    project,
    service,
    configFiles: configFilesOf(labels),
    oneoff: labels[LABEL.oneoff] === 'True',
    running: false,
    pid: null,
    exitCode: null,
    image,
    imageId: null,
    startedAt: null,
  };
}

/** The subset of `docker inspect` the view needs. */
export interface InspectLike {
  Id: string;
  Name: string;
  Image: string;
  Config: { Image: string; Labels: Record<string, string> | null };
  State: { Running: boolean; Pid: number; ExitCode: number; StartedAt: string };
}

export function viewFromInspect(info: InspectLike): ContainerView | null {
  const view = viewFromLabels(info.Id, info.Name, info.Config.Image, info.Config.Labels ?? {});
  if (!view) return null;
  const { Running, Pid, ExitCode, StartedAt } = info.State;
  return { ...view, running: Running, pid: Running ? Pid : null, exitCode: Running ? null : ExitCode, imageId: info.Image, startedAt: StartedAt };
}
