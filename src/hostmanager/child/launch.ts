/** How a child is launched: a native command, or a docker-compose service. */
import type { LaunchSpec } from '../../site-config/types.js';

export interface DockerLaunch {
  kind: 'docker';
  /** `<prefix><instance-id>`. */
  service: string;
  /** Absolute path of the compose file that defines the service. */
  composeFile: string;
  /** Compose project name (by default the compose file's directory name). */
  project: string;
}

export type ChildLaunch = LaunchSpec | DockerLaunch;

export function isDockerLaunch(launch: ChildLaunch | null): launch is DockerLaunch {
  return launch !== null && 'kind' in launch && launch.kind === 'docker';
}
