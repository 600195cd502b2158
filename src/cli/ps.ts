/** `cox ps`: the named processes the controller knows, newest first; it hands none of them out. */
import { Command } from 'commander';
import type { ProcessView } from '../client/controller-client.js';
import { EXIT_LOST, EXIT_NOT_STARTED } from '../protocol/process.js';
import { controllerConnection, integer, printJson, withControllerConnection } from './controller.js';
import { table } from './sessions.js';

export function psCommand(): Command {
  return withControllerConnection(new Command('ps'))
    .description('list named processes: node, name, state, exit code')
    .option('--limit <n>', 'how many processes', integer('--limit'), 100)
    .action(async (opts: { limit: number }, cmd: Command) => {
      const { client, json } = controllerConnection(cmd);
      const processes = await client.processes(opts.limit);
      if (json) return printJson(processes);
      const rows = processes.map((p) => [p.node, p.name, p.state, exitText(p), p.spec.args.join(' '), p.reason]);
      process.stdout.write(table([['[node]', '[name]', '[state]', '[exit]', '[command]', '[reason]'], ...rows]));
    });
}

function exitText(p: ProcessView): string {
  if (p.exit_code === null) return '-';
  const word = p.exit_code === EXIT_LOST ? ' (lost)' : p.exit_code === EXIT_NOT_STARTED ? ' (not started)' : '';
  return `${p.exit_code}${word}`;
}
