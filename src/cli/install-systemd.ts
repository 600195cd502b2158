/**
 * `cox install-systemd`: writes the unit file that starts a coxswain daemon at boot, with this
 * node and this coxswain by absolute path, and prints the commands that enable it. A unit that
 * exists with other content is left alone unless --force: it may hold an operator's changes.
 */
import { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { checkControllerCombinations, type ControllerDaemonOptions } from '../controller/options.js';
import { Errors } from '../shared/errors.js';
import { loadSiteConfig } from '../site-config/load.js';
import { COMPONENTS, renderUnit, timeoutStopSec, unitName, type Component } from '../systemd/unit.js';
import { agentCommand } from './agent.js';
import { fail } from './connection.js';
import { controllerCommand } from './controller.js';
import { hostManagerCommand } from './hostmanager.js';

interface InstallOptions {
  component: Component;
  unitDir: string;
  force: boolean;
  siteFile?: string;
  siteHost?: string;
  config?: string;
  user?: string;
  json: boolean;
}

const DEFAULT_SITE_FILE = process.env.OCS_CONFIG_DIR ? `${process.env.OCS_CONFIG_DIR}/default.yaml` : 'site-config/default.yaml';

export function installSystemdCommand(): Command {
  return new Command('install-systemd')
    .description('write a systemd unit that starts a coxswain daemon at boot')
    .addOption(new Option('--component <name>', 'which daemon').choices(COMPONENTS).default('hostmanager'))
    .option('--unit-dir <dir>', 'where unit files go', '/etc/systemd/system')
    .option('--force', 'overwrite a unit file whose content differs', false)
    .option('--site-file <file>', `hostmanager: the SCF (default ${DEFAULT_SITE_FILE})`)
    .option('--site-host <host>', 'hostmanager: the host block to use')
    .option('--config <file>', 'agent: its TOML configuration')
    .option('--user <user>', 'run the daemon as this user instead of root')
    .option('--json', 'print JSON instead of text', false)
    .argument('[options...]', 'more options for the daemon, after --')
    .action((extra: string[], opts: InstallOptions) => install(opts, extra));
}

function install(opts: InstallOptions, extra: string[]): void {
  if (opts.user !== undefined && !/^([a-z_][a-z0-9_-]*\$?|\d+)$/i.test(opts.user)) {
    throw Errors.CONFIG_INVALID(`--user: "${opts.user}" is not a user name`);
  }
  const { args, timeout } = daemonArgs(opts);
  checkDaemonOptions(opts.component, [...args, ...extra]);
  const text = renderUnit({
    component: opts.component,
    node: process.execPath,
    main: realpathSync(fileURLToPath(new URL('./main.js', import.meta.url))),
    args: [...args, ...extra],
    ...(opts.user ? { user: opts.user } : {}),
    timeoutStopSec: timeout,
  });
  const name = unitName(opts.component);
  const path = join(resolve(opts.unitDir), name);
  const before = existsSync(path) ? readFileSync(path, 'utf8') : null;
  if (before !== null && before !== text && !opts.force) {
    return fail(`${path} exists with other content; not overwritten (use --force to replace it)`);
  }
  const status = before === null ? 'written' : before === text ? 'unchanged' : 'overwritten';
  if (status !== 'unchanged') {
    // Written whole or not at all: systemd may read the directory at any moment.
    writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
    renameSync(`${path}.tmp`, path);
  }
  const commands = [`systemctl daemon-reload && systemctl enable --now ${name}`];
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ unit: name, path, status, commands }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${path}: ${status}\nto start it now and at every boot:\n  ${commands.join('\n  ')}\n`);
}

/** The daemon's own options, by absolute path (systemd starts it in /var/lib/coxswain). */
function daemonArgs(opts: InstallOptions): { args: string[]; timeout: number } {
  const misplaced = [['--site-file', opts.siteFile, 'hostmanager'], ['--site-host', opts.siteHost, 'hostmanager'], ['--config', opts.config, 'agent']] as const;
  for (const [flag, value, component] of misplaced) {
    if (value !== undefined && opts.component !== component) throw Errors.CONFIG_INVALID(`${flag} is for --component ${component}`);
  }
  if (opts.component === 'hostmanager') {
    const file = resolve(opts.siteFile ?? DEFAULT_SITE_FILE);
    // Read now so a unit is never installed for a config the daemon would refuse at boot, and
    // for the longest stop-timeout, which TimeoutStopSec must exceed.
    const site = loadSiteConfig({ file, ...(opts.siteHost ? { host: opts.siteHost } : {}) });
    const maxGrace = Math.max(0, ...site.instances.map((i) => i.stopGraceMs));
    return { args: ['--site-file', file, ...(opts.siteHost ? ['--site-host', opts.siteHost] : [])], timeout: timeoutStopSec(maxGrace) };
  }
  if (opts.component === 'agent') {
    if (opts.config === undefined) throw Errors.CONFIG_INVALID('--config <file> is required for --component agent');
    const file = resolve(opts.config);
    if (!existsSync(file)) throw Errors.CONFIG_INVALID(`--config: ${file} does not exist`);
    return { args: ['--config', file], timeout: timeoutStopSec(0) };
  }
  return { args: [], timeout: timeoutStopSec(0) };
}

/**
 * Parses the daemon's options with the daemon's own parser, so a unit is never installed with a
 * flag or value it would refuse at every boot. The token is not required here: it may come from
 * the unit's EnvironmentFile.
 */
function checkDaemonOptions(component: Component, args: string[]): void {
  const daemon = { hostmanager: hostManagerCommand, agent: agentCommand, controller: controllerCommand }[component]();
  daemon.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} }).action(() => {});
  // The daemon reads COX_* variables at boot from the unit's environment, not the installer's.
  const installers = Object.entries(process.env).filter(([k]) => k.startsWith('COX_'));
  for (const [k] of installers) delete process.env[k];
  try {
    daemon.parse(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw Errors.CONFIG_INVALID(`${component}: ${err.message.replace(/^error: /, '')}`);
    throw err;
  } finally {
    Object.assign(process.env, Object.fromEntries(installers));
  }
  if (component === 'controller') checkControllerCombinations(daemon.opts<ControllerDaemonOptions>());
}
