/**
 * One native child, started by the launcher process (../launcher) in its own process group with
 * its output going straight to its log file. Signals go through the launcher too, which then
 * never relaunches that process; only a child orphaned by a dead launcher is signalled from here.
 */
import { join } from 'node:path';
import { processStartTime } from '../../shared/proc.js';
import type { QuickRelaunch } from '../child/child.machine.js';
import type { LaunchHandle, Launcher } from '../launcher/launcher.js';
import type { LaunchSpec } from '../../site-config/types.js';
import { AttachedProcess } from './attached-process.js';

export interface NativeProcessEvents {
  onSpawn(pid: number): void;
  onExit(code: number | null, signal: string | null): void;
  /** The launch failed before a process existed. `recoverable` is false when retrying cannot help. */
  onSpawnError(message: string, recoverable: boolean): void;
}

export function logFileFor(logDir: string, instanceId: string): string {
  return join(logDir, `${instanceId}.log`);
}

export class NativeProcess {
  private alive = false;
  /** Set when the launcher died under the child: from then on it is watched by pid. */
  private orphan: AttachedProcess | null = null;
  private handle: LaunchHandle | null = null;

  constructor(
    readonly instanceId: string,
    private readonly launch: LaunchSpec,
    private readonly logDir: string,
    private readonly launcher: Launcher,
    private readonly events: NativeProcessEvents,
    /** Extra environment that marks the process as ours, so a restarted host manager finds it. */
    private readonly marker: Record<string, string> = {},
    /** The restart policy's word in advance, for the launcher to act on (see LaunchOrder). */
    private readonly quickRelaunch: QuickRelaunch | null = null,
  ) {}

  start(): void {
    const request = {
      argv: this.launch.argv,
      cwd: this.launch.cwd,
      env: { ...this.launch.env, ...this.marker, COX_INSTANCE_ID: this.instanceId },
      logDir: this.logDir,
      logFile: logFileFor(this.logDir, this.instanceId),
      relaunchAfterMs: this.quickRelaunch?.afterMs ?? null,
      thenRelaunchAfterMs: this.quickRelaunch?.thenAfterMs ?? null,
    };
    this.handle = this.launcher.launch(this.instanceId, request, {
      onSpawn: (pid) => {
        this.alive = true;
        this.events.onSpawn(pid);
      },
      onExit: (code, signal) => this.exited(code, signal),
      onSpawnError: (message, recoverable) => this.events.onSpawnError(message, recoverable),
      onOrphaned: (pid) => this.watchOrphan(pid),
    });
  }

  /** Signals the whole process group; a no-op once the group is gone. */
  signalGroup(signal: NodeJS.Signals): void {
    if (this.orphan) this.orphan.signalGroup(signal);
    else this.handle?.signal(signal);
  }

  get running(): boolean {
    return this.alive;
  }

  private exited(code: number | null, signal: string | null): void {
    this.alive = false;
    this.events.onExit(code, signal);
  }

  private watchOrphan(pid: number): void {
    const startTime = processStartTime(pid);
    if (startTime === null) return this.exited(null, null);
    this.orphan = new AttachedProcess(pid, startTime, { onSpawn: () => {}, onExit: (code, signal) => this.exited(code, signal) });
    this.orphan.watch();
  }
}
