/**
 * systemd unit files for the coxswain daemons, as pure text: what `cox install-systemd` writes.
 * The reasons for each setting are written into the unit itself, where an operator reading it
 * on a host will look for them.
 */
import { NODE_FLAGS } from './node-flags.js';

export const COMPONENTS = ['hostmanager', 'agent', 'controller'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface UnitSpec {
  component: Component;
  /** Absolute path of the node binary. */
  node: string;
  /** Absolute path of coxswain's dist/cli/main.js. */
  main: string;
  /** Options after the subcommand, e.g. `['--site-file', '/etc/coxswain/site.yaml']`. */
  args: string[];
  /** Run as this user instead of root. */
  user?: string;
  timeoutStopSec: number;
}

export const ENVIRONMENT_FILE = '/etc/default/coxswain';

const DESCRIPTIONS: Record<Component, string> = {
  hostmanager: "coxswain host manager: keeps this host's agents in their target state",
  agent: 'coxswain agent: runs the jobs its controllers hand to this node',
  controller: 'coxswain controller: dispatches jobs to coxswain agents',
};

/**
 * After SIGTERM the host manager gives its children their longest grace time plus 5 s, and exits
 * on its own at the latest 20 s past that grace (30 s with short graces): systemd's SIGKILL must
 * come after both.
 */
const MIN_TIMEOUT_STOP_SEC = 45;
const STOP_MARGIN_SEC = 25;

export function unitName(component: Component): string {
  return `coxswain-${component}.service`;
}

/** TimeoutStopSec for children whose longest SIGTERM→SIGKILL grace is `maxGraceMs`. */
export function timeoutStopSec(maxGraceMs: number): number {
  return Math.max(MIN_TIMEOUT_STOP_SEC, Math.ceil(maxGraceMs / 1000) + STOP_MARGIN_SEC);
}

/** When each daemon tells systemd it has started (Type=notify). */
const READY_WHEN: Record<Component, string> = {
  hostmanager: 'once every child is launched or re-attached',
  controller: 'once the store is open and the port bound',
  agent: 'once its configuration loaded and its pollers run',
};

export function renderUnit(spec: UnitSpec): string {
  const name = unitName(spec.component);
  const exec = [spec.node, ...NODE_FLAGS[spec.component], spec.main, spec.component, ...spec.args].map(execArg).join(' ');
  const docker = spec.component === 'hostmanager';
  return [
    '# Written by `cox install-systemd`: run it again (with --force) rather than editing this',
    `# file; keep local changes in a drop-in (systemctl edit ${name}).`,
    '[Unit]',
    `Description=${DESCRIPTIONS[spec.component]}`,
    'Wants=network-online.target',
    ...(docker
      ? [
          '# Ordered after docker when this host runs it, so that at shutdown our containers are',
          '# brought down while dockerd still runs; not Wants=, which would start docker on hosts',
          '# whose children are all native processes.',
          'After=network-online.target docker.service',
        ]
      : ['After=network-online.target']),
    '',
    '[Service]',
    `# READY=1 is sent ${READY_WHEN[spec.component]}. It is sent by systemd-notify,`,
    '# a helper process, whose messages only NotifyAccess=all accepts when not running as root.',
    'Type=notify',
    'NotifyAccess=all',
    `ExecStart=${exec}`,
    `EnvironmentFile=-${ENVIRONMENT_FILE}`,
    ...(spec.user ? [`User=${spec.user}`] : []),
    '# Relative paths (the SCF log-dir, the state dir) land here, owned by User=.',
    'StateDirectory=coxswain',
    'WorkingDirectory=/var/lib/coxswain',
    '# A host whose config is broken at boot is retried every 5 s without hitting the start limit.',
    'Restart=always',
    'RestartSec=5',
    '# SIGTERM goes to the daemon alone, which stops its children within their grace times;',
    '# whatever is left when it exits, or at TimeoutStopSec, gets SIGKILL.',
    'KillMode=mixed',
    `TimeoutStopSec=${spec.timeoutStopSec}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One ExecStart= word. systemd expands `%` specifiers and `$VAR`s even inside quotes, so those
 * are doubled; anything beyond plain characters is double-quoted with C escapes.
 */
export function execArg(arg: string): string {
  const literal = arg.replace(/[%$]/g, (c) => c + c);
  if (PLAIN.test(arg)) return literal;
  const escaped = literal.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `"${escaped}"`;
}
