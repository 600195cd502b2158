/**
 * The `runChild` actor for native children: bridges a NativeProcess (or, after a restart, an
 * AttachedProcess) to the child machine, and keeps each running child's handle in the state dir.
 */
import type { ProcessReport } from '../child/child.machine.js';
import { isDockerLaunch } from '../child/launch.js';
import type { ChildRunner } from '../child/run-child.js';
import type { LaunchSpec } from '../../site-config/types.js';
import type { StateDir } from '../state/state-dir.js';
import { AttachedProcess } from './attached-process.js';
import { NativeProcess, type NativeProcessEvents } from './native-process.js';
import { processStartTime } from '../../shared/proc.js';
import type { Launcher } from '../launcher/launcher.js';

/** Environment variable that marks a process as a child of the host manager using that state dir. */
export const STATE_MARKER = 'COX_STATE_DIR';

export interface NativeDriverOptions {
  /** Read at each launch, so a reloaded SCF with a new `log-dir` takes effect. */
  logDir: string | (() => string);
  state?: StateDir;
  launcher: Launcher;
}

/** What a handle records of the launch, to tell whether a re-attached process still matches. */
export function launchKeyOf(launch: LaunchSpec): string {
  return JSON.stringify([launch.argv, launch.cwd, launch.env]);
}

export function nativeRunner(opts: NativeDriverOptions): ChildRunner {
  const { state } = opts;
  const marker: Record<string, string> = state ? { [STATE_MARKER]: state.dir } : {};
  return ({ input, sendBack, receive }) => {
    const { instanceId, launch, adopt, quickRelaunch } = input;
    if (isDockerLaunch(launch)) throw new Error(`native runner given docker service ${launch.service}`);
    const report = (event: ProcessReport) => sendBack(event);
    const events: NativeProcessEvents = {
      onSpawn: (pid) => {
        const startTime = adopt?.startTime ?? processStartTime(pid);
        if (state && startTime) state.writeHandle(instanceId, { pid, startTime, launchKey: launchKeyOf(launch) });
        report({ type: 'SPAWNED', pid });
      },
      onExit: (code, signal) => {
        report({ type: 'EXITED', code, signal });
        // After the report, so a relaunch is not held up; the new child's handle is written only
        // once it has spawned, which is never within this same tick.
        state?.removeHandle(instanceId);
      },
      onSpawnError: (message, recoverable) => report({ type: 'SPAWN_FAILED', message, recoverable }),
    };
    const dir = typeof opts.logDir === 'function' ? opts.logDir() : opts.logDir;
    const proc = adopt
      ? new AttachedProcess(adopt.pid, adopt.startTime, events)
      : new NativeProcess(instanceId, launch, dir, opts.launcher, events, marker, quickRelaunch);
    receive((command) => proc.signalGroup(command.type === 'TERM' ? 'SIGTERM' : 'SIGKILL'));
    proc.start();
    // The machine stops this actor once the child exited, or when the supervisor is torn down
    // without a graceful stop: then nothing may be left running behind us.
    return () => {
      if (!proc.running) return;
      proc.signalGroup('SIGKILL');
      if (proc instanceof AttachedProcess) proc.detach();
    };
  };
}
