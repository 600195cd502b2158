/**
 * The host manager's options. OCS puts some of them in the HostManager's own SCF entry
 * (`arguments: [--initial-state, up, ...]`); flags given on the command line win over those, so a
 * unit file needs only `--site-file` and `--site-host`.
 */
import { Command, CommanderError, Option } from 'commander';
import { Errors } from '../shared/errors.js';
import { LOG_LEVELS } from '../shared/log-levels.js';
import { DEFAULT_LOG_KEEP, DEFAULT_LOG_MAX_BYTES } from './logs/log-files.js';

export interface HostManagerOptions {
  siteFile: string;
  siteHost?: string;
  initialState?: 'up' | 'down';
  dockerCompose: string[];
  dockerServicePrefix: string;
  dockerComposeBin?: string;
  quiet: boolean;
  address: string;
  port: number;
  stateDir: string;
  token?: string;
  logLevel: string;
  logMaxSize: number;
  logKeep: number;
}

export const DEFAULT_PORT = 8011;

/** Adds the host manager's options to `cmd` (the `cox hostmanager` command, or a parser for SCF arguments). */
export function withHostManagerOptions(cmd: Command): Command {
  return cmd
    .option('--site-file <file>', 'site config file (SCF, YAML)', process.env.OCS_CONFIG_DIR ? `${process.env.OCS_CONFIG_DIR}/default.yaml` : 'site-config/default.yaml')
    .option('--site-host <host>', 'host block to use (default: this hostname, else localhost)')
    .addOption(new Option('--initial-state <state>', 'force every child\'s starting target').choices(['up', 'down']))
    .option('--docker-compose <files>', 'comma-separated docker-compose files to parse and manage', (v: string) => v.split(',').filter(Boolean), [])
    .option('--docker-service-prefix <prefix>', 'prefix that, with the instance-id, names a docker service', 'ocs-')
    .option('--docker-compose-bin <path>', 'compose binary (docker compose v2 or docker-compose v1)')
    .option('--quiet', 'log only warnings and errors', false)
    .option('--address <ip>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'HTTP port (API, OCS /call bridge)', (v: string) => parsePort(v), DEFAULT_PORT)
    .option('--state-dir <dir>', 'where state that survives restarts is kept', '.state')
    .option('--token <token>', 'bearer token required by the API (required off loopback; env COX_TOKEN)', process.env.COX_TOKEN)
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .option('--log-max-size <bytes>', "rotate a child's log file at this size (suffix K, M or G: KiB, MiB, GiB)", parseSize, DEFAULT_LOG_MAX_BYTES)
    .option('--log-keep <n>', 'rotated log files kept per child: <id>.log.1 (newest) … <id>.log.<n>', parseCount, DEFAULT_LOG_KEEP);
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

function parseSize(v: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(v.trim());
  if (!m || Number(m[1]) < 1) throw Errors.CONFIG_INVALID(`--log-max-size: "${v}" is not a size in bytes (e.g. 10485760 or 10M)`);
  return Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!;
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw Errors.CONFIG_INVALID(`--log-keep: "${v}" is not a count from 0 to 1000`);
  return n;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw Errors.CONFIG_INVALID(`--port: "${v}" is not a port number`);
  return n;
}

type Raw = Omit<HostManagerOptions, 'siteFile'> & { siteFile: string };

/**
 * Merges the HostManager entry's SCF `arguments` under the options given on the command line:
 * for every option, a value from the command line wins, then one from the SCF, then the default.
 */
export function mergeScfArguments(cli: Command, scfArguments: string[], where: string): HostManagerOptions {
  const fromCli = cli.opts<Raw>();
  if (scfArguments.length === 0) return fromCli;
  const parser = withHostManagerOptions(new Command('HostManager'))
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  try {
    parser.parse(scfArguments, { from: 'user' });
  } catch (err) {
    const message = err instanceof CommanderError ? err.message.replace(/^error: /, '') : String(err);
    throw Errors.CONFIG_INVALID(`${where}: arguments: ${message}`);
  }
  const fromScf = parser.opts<Raw>();
  const merged: Record<string, unknown> = { ...fromCli };
  for (const key of Object.keys(fromScf)) {
    if (cli.getOptionValueSource(key) !== 'cli' && parser.getOptionValueSource(key) === 'cli') {
      merged[key] = fromScf[key as keyof Raw];
    }
  }
  return merged as unknown as HostManagerOptions;
}

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}
