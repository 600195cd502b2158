/** `cox logs <instance-id> [-n N] [-f]`: the last lines of a child's log, and with -f what follows. */
import { Command, InvalidArgumentError } from 'commander';
import { clientFor, connectionOptions, fail, withConnectionOptions } from './connection.js';

export function logsCommand(): Command {
  return withConnectionOptions(new Command('logs'))
    .description("print the last lines of a child's log; with -f, keep printing what it writes")
    .argument('<instance-id>')
    .option('-n, --lines <n>', 'how many lines', parseLines, 100)
    .option('-f, --follow', 'keep printing new lines, across restarts of the child and log rotations, until interrupted', false)
    .action(async (id: string, opts: { lines: number; follow: boolean }, cmd: Command) => {
      const conn = connectionOptions(cmd);
      if (conn.url.length !== 1) return fail('logs reads one host manager: give one --url');
      const client = clientFor(conn.url[0]!, conn);
      if (opts.follow) {
        if (conn.json) return fail('--json and --follow do not mix: the stream is the log text itself');
        for await (const text of client.follow(id, opts.lines)) process.stdout.write(text);
        // Only the host manager ends a follow (it is stopping); an interrupt kills us first.
        return fail(`${conn.url[0]}: the host manager closed the log stream`);
      }
      const logs = await client.logs(id, opts.lines);
      process.stdout.write(conn.json ? `${JSON.stringify(logs, null, 2)}\n` : logs.lines.map((l) => `${l}\n`).join(''));
    });
}

function parseLines(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 10_000) throw new InvalidArgumentError('expected a number of lines from 0 to 10000.');
  return n;
}
