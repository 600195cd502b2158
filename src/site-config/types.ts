/** Typed values produced by the Site Config File loader (REFERENCE 1.1). */
import type { RestartPolicyConfig } from '../hostmanager/child/restart-policy.js';

export type Manage = 'host/up' | 'host/down' | 'docker/up' | 'docker/down' | 'ignore';

/** How to launch a host-managed instance, resolved from `command:` or its `agent-classes:` entry. */
export interface LaunchSpec {
  /** Full argv: the resolved command followed by the flattened `arguments`. */
  argv: string[];
  /** Absolute working directory. */
  cwd: string;
  /** Extra environment, merged over the host manager's own environment. */
  env: Record<string, string>;
}

export interface InstanceConfig {
  instanceId: string;
  agentClass: string;
  manage: Manage;
  /** `arguments` flattened and stringified. */
  arguments: string[];
  /** Null when the class resolves to no command; `notOperableReason` then says why. */
  launch: LaunchSpec | null;
  notOperableReason?: string;
  /** SIGTERM → SIGKILL grace time in ms (`stop-timeout` seconds in the SCF; default 10 s). */
  stopGraceMs: number;
  /** Per-instance restart tuning (`restart:` in the SCF, seconds there, ms here). */
  restart?: Partial<RestartPolicyConfig>;
  /** 1-based line of the entry in the SCF, for messages. */
  line: number;
}

export interface HubConfig {
  /** `hub.wamp_http`, the OCS HTTP bridge URL clients use. */
  wampHttp?: string;
  /** `hub.address_root`; OCS's default is `observatory`. */
  addressRoot: string;
}

export interface SiteConfigWarning {
  file: string;
  line: number;
  message: string;
}

export interface SiteConfig {
  /** Absolute path of the SCF. */
  file: string;
  /** The host block that was selected. */
  host: string;
  hub: HubConfig;
  /** Absolute `log-dir` of the host (relative paths are joined to the working dir). */
  logDir: string;
  /** The HostManager's own entry, if any: never supervised, its `arguments` are our options. */
  hostManager?: { instanceId: string; arguments: string[]; line: number };
  /** Every non-HostManager instance whose `manage` value was valid, in file order. */
  instances: InstanceConfig[];
  /** Entries skipped with a warning (e.g. an unknown `manage` value). */
  warnings: SiteConfigWarning[];
}
