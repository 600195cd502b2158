/**
 * `cox controller` (the daemon), and the connection options its client subcommands
 * (`exec`, `jobs`, `sessions`) share: the controller URL, the token, JSON output.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ControllerClient, DEFAULT_CONTROLLER_URL } from '../client/controller-client.js';
import { withControllerOptions } from '../controller/options.js';

export function controllerCommand(): Command {
  return withControllerOptions(new Command('controller'))
    .description('run the job controller: agents long-poll it for jobs, clients submit jobs to it')
    // Loaded on use: client subcommands should not pay for SQLite and the server.
    .action(async (_opts, cmd: Command) => (await import('../controller/daemon.js')).runControllerDaemon(cmd));
}

export interface ControllerConnection {
  client: ControllerClient;
  json: boolean;
}

export function withControllerConnection(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'controller URL').env('COX_CONTROLLER_URL').default(DEFAULT_CONTROLLER_URL))
    .addOption(new Option('--token <token>', 'bearer token').env('COX_TOKEN'))
    .option('--json', 'print JSON instead of text', false);
}

export function controllerConnection(cmd: Command): ControllerConnection {
  const { url, token, json } = cmd.opts<{ url: string; token?: string; json: boolean }>();
  return { client: new ControllerClient({ url, ...(token ? { token } : {}) }), json };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** An option parser for counts and ids: commander reports the flag and the bad value. */
export function integer(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} takes a non-negative integer`);
    return Number(value);
  };
}
