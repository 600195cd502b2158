/** Where the children's log files are: `<log-dir>/<instance-id>.log` under the current SCF's log dir. */
import type { HostManager } from '../host-manager.js';
import { logFileFor } from '../process/native-process.js';

/** Null when there is no site config yet, hence no log dir. */
export function childLogFile(hm: HostManager, instanceId: string): string | null {
  const logDir = hm.config.current?.logDir;
  return logDir ? logFileFor(logDir, instanceId) : null;
}

/** Every supervised child's file; a docker child has none on disk, which rotation skips. */
export function childLogFiles(hm: HostManager): string[] {
  return hm.supervisor.states().flatMap((s) => childLogFile(hm, s.instance_id) ?? []);
}
