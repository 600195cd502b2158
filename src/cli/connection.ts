/** Options every client subcommand shares: which host managers, the token, JSON output. */
import { Command, Option } from 'commander';
import { HostManagerClient } from '../client/hostmanager-client.js';
import { DEFAULT_PORT } from '../hostmanager/options.js';

export interface ConnectionOptions {
  url: string[];
  token?: string;
  json: boolean;
}

export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--url <url...>', 'host manager URL(s); several are queried in parallel')
        .env('COX_URL')
        .default([`http://127.0.0.1:${DEFAULT_PORT}`]),
    )
    .addOption(new Option('--token <token>', 'bearer token').env('COX_TOKEN'))
    .option('--json', 'print JSON instead of text', false);
}

export function connectionOptions(cmd: Command): ConnectionOptions {
  const opts = cmd.opts<{ url: string[] | string; token?: string; json: boolean }>();
  const url = (Array.isArray(opts.url) ? opts.url : opts.url.split(',')).filter(Boolean);
  return { url, json: opts.json, ...(opts.token ? { token: opts.token } : {}) };
}

export function clientFor(url: string, opts: ConnectionOptions): HostManagerClient {
  return new HostManagerClient({ url, ...(opts.token ? { token: opts.token } : {}) });
}

/** Prints a failure the way a user can act on it and sets a failing exit code. */
export function fail(message: string): void {
  process.stderr.write(`cox: ${message}\n`);
  process.exitCode = 1;
}
