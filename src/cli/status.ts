import { Command } from 'commander';
import type { ChildrenView } from '../client/hostmanager-client.js';
import { formatStatus } from './format-status.js';
import { clientFor, connectionOptions, fail, withConnectionOptions } from './connection.js';

interface HostResult {
  url: string;
  status?: ChildrenView;
  error?: string;
}

export function statusCommand(): Command {
  return withConnectionOptions(new Command('status'))
    .description('show every child of the host manager(s): state, target, why')
    .action(async (_opts, cmd: Command) => {
      const conn = connectionOptions(cmd);
      const hosts: HostResult[] = await Promise.all(
        conn.url.map((url) =>
          clientFor(url, conn)
            .children()
            .then((status) => ({ url, status }), (err: Error) => ({ url, error: err.message })),
        ),
      );
      if (conn.json) {
        const single = hosts.length === 1 && hosts[0]!.status;
        process.stdout.write(`${JSON.stringify(single || hosts, null, 2)}\n`);
      } else {
        for (const h of hosts) if (h.status) process.stdout.write(`${formatStatus(h.url, h.status)}\n`);
      }
      for (const h of hosts) if (h.error) fail(`${h.url}: ${h.error}`);
    });
}
