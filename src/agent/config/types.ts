/**
 * The agent's configuration after validation: every relative path resolved against the config
 * file's directory, and every "[] = all" list of controller keys expanded to the keys it means.
 */
import type { JobArgs } from '../../protocol/job.js';
import type { Levels } from '../output/level-list.js';

export interface TlsFiles {
  /** Client certificate presented to the controller (its CN must be `<gid>_<nid>`). */
  cert?: string;
  key?: string;
  /** Extra CA to trust, for a controller with a self-signed certificate. */
  ca?: string;
}

export interface ControllerConfig {
  /** The `[controllers.<key>]` name; loggers, stats and the channel refer to it. */
  key: string;
  /** Base URL without a trailing slash. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` (coxswain extension). */
  token?: string;
  /** `stream`: one upgraded connection; `http`: a request per call (coxswain extension). */
  transport: 'stream' | 'http';
  tls: TlsFiles;
}

/** `[cmds.<name>]`: a job with cmd `<name>` runs `binary args...` like `execute`. */
export interface ExtensionCmd {
  binary: string;
  cwd?: string;
  /** Templates: `{key}` is replaced by the job's `args.key`. */
  args: string[];
  env: Record<string, string>;
}

interface LoggerBase {
  /** The `[logging.<name>]` name, for messages. */
  name: string;
  /** Default levels; a job may override them (see log-router.ts). */
  levels: Levels;
}

export interface DbLoggerConfig extends LoggerBase {
  type: 'DB';
  logDir: string;
  /** A file is closed and a new one started past this size or age. */
  maxFileBytes: number;
  maxFileAgeMs: number;
  /** Oldest files beyond this count are deleted. */
  maxFiles: number;
}

export interface AcLoggerConfig extends LoggerBase {
  type: 'AC';
  flushMs: number;
  batchSize: number;
  controllers: string[];
}

export interface ConsoleLoggerConfig extends LoggerBase {
  type: 'console';
}

export type LoggerConfig = DbLoggerConfig | AcLoggerConfig | ConsoleLoggerConfig;

export interface StartupTask {
  /** The section name: the task's job id. */
  id: string;
  cmd: string;
  args: JobArgs;
}

export interface AgentConfig {
  /** Absolute path of the file this came from. */
  file: string;
  gid: number;
  nid: number;
  maxJobs: number;
  messageIdFile: string;
  historyFile: string;
  /** Where the agent keeps its own files (jumpscript cache); defaults to history_file's dir. */
  stateDir: string;
  roles: string[];
  controllers: Record<string, ControllerConfig>;
  cmds: Record<string, ExtensionCmd>;
  /** Controller keys to long-poll. */
  channel: string[];
  loggers: LoggerConfig[];
  stats: { intervalMs: number; controllers: string[] };
  startup: StartupTask[];
}
