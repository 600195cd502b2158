import { Command } from 'commander';
import { clientFor, connectionOptions, fail, withConnectionOptions } from './connection.js';

export function logsCommand(): Command {
  return withConnectionOptions(new Command('logs'))
    .description("print the last lines of a child's log")
    .argument('<instance-id>')
    .option('-n, --lines <n>', 'how many lines', (v) => Number(v), 100)
    .action(async (id: string, opts: { lines: number }, cmd: Command) => {
      const conn = connectionOptions(cmd);
      if (conn.url.length !== 1) return fail('logs reads one host manager: give one --url');
      const logs = await clientFor(conn.url[0]!, conn).logs(id, opts.lines);
      process.stdout.write(conn.json ? `${JSON.stringify(logs, null, 2)}\n` : logs.lines.map((l) => `${l}\n`).join(''));
    });
}
