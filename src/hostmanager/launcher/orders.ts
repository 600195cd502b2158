/**
 * What the host manager and its launcher process say to each other over the IPC channel. One
 * launch order per process, named by `ref`; the launcher answers `spawned` or `failed`, then
 * `exited`. A process the launcher relaunched by itself gets a negative ref of the launcher's.
 */
export interface LaunchOrder {
  type: 'launch';
  ref: number;
  argv: string[];
  cwd: string;
  /** Added to the environment the launcher inherited from the host manager. */
  env: Record<string, string>;
  logDir: string;
  logFile: string;
  /**
   * The restart policy's word in advance: an exit after a run at least this long (ms) is
   * relaunched at once, so the launcher may do it without waiting to be told. Null: never.
   */
  relaunchAfterMs: number | null;
  /** The same for every process relaunched that way. */
  thenRelaunchAfterMs: number | null;
}

/** Signals a launched process's group; from then on it is never relaunched by the launcher. */
export interface SignalOrder {
  type: 'signal';
  ref: number;
  signal: NodeJS.Signals;
}

export type LauncherOrder = LaunchOrder | SignalOrder;

export type LauncherReport =
  | { type: 'spawned'; ref: number; pid: number }
  /** No process exists. `recoverable` is false when retrying cannot help. */
  | { type: 'failed'; ref: number; message: string; recoverable: boolean }
  /** `relaunched`: the ref of the process the launcher started in its place. */
  | { type: 'exited'; ref: number; code: number | null; signal: string | null; relaunched?: number };
