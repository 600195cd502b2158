/**
 * What the host manager keeps of a compose container, and which service of which compose file it
 * belongs to. Pure: built from the engine's inspect answer or an event's attributes.
 */
import { dirname, isAbsolute, normalize, resolve } from 'node:path';

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
  /** The compose files it was created from, as compose labelled them (see `createdFrom`). */
  configFiles: string[];
  /** Compose's project directory when it created the container. */
  workingDir: string;
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
 * Whether compose created the container from `composeFile`. Compose v2 labels `config_files` with
 * absolute paths. v1 (Debian's 1.29.2) labels them as given on its command line, relative to the
 * directory it ran in, which no label records; `working_dir` is the project directory, the first
 * file's own unless `--project-directory` named another. So a relative path names `composeFile`
 * if it does from the project directory, or if the file is in the project directory and the path
 * leads to it from somewhere: `proj/docker-compose.yaml` run from proj's parent,
 * `../docker-compose.yaml` from a subdirectory.
 */
export function createdFrom(c: ContainerView, composeFile: string): boolean {
  return c.configFiles.some((f) => {
    if (isAbsolute(f)) return resolve(f) === composeFile;
    return resolve(c.workingDir, f) === composeFile || (dirname(composeFile) === c.workingDir && leadsTo(f, composeFile));
  });
}

/** Whether the relative `path` reaches `file` from some directory; its leading `..` climb from anywhere. */
function leadsTo(path: string, file: string): boolean {
  return file.endsWith(`/${normalize(path).replace(/^(\.\.\/)+/, '')}`);
}

/** A container started from another compose file with the same service name is not ours. */
export function belongsTo(c: ContainerView, key: ServiceKey): boolean {
  return !c.oneoff && c.project === key.project && c.service === key.service && createdFrom(c, key.composeFile);
}

/** Containers of a compose project created from `composeFile`, whatever their service. */
export function fromFile(c: ContainerView, composeFile: string, project: string): boolean {
  return !c.oneoff && c.project === project && createdFrom(c, composeFile);
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
    configFiles: (labels[LABEL.configFiles] ?? '').split(',').filter(Boolean),
    workingDir: labels[LABEL.workingDir] ?? '/',
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
