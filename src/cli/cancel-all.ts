/** `cox cancel-all`: every agent kills the process groups of the named processes it started. */
import { Command } from 'commander';
import { controllerConnection, printJson, withControllerConnection } from './controller.js';

export function cancelAllCommand(): Command {
  return withControllerConnection(new Command('cancel-all'))
    .description('kill every named process on every node (their exit codes come through get_finished)')
    .action(async (_opts, cmd: Command) => {
      const { client, json } = controllerConnection(cmd);
      const report = await client.cancelAll();
      if (json) return printJson(report);
      const nodes = report.nodes.length > 0 ? report.nodes.join(', ') : 'no connected nodes';
      process.stdout.write(`cancelling on ${nodes}; ${report.withdrawn} not yet started withdrawn\n`);
    });
}
