/** `cox resources`: per connected node, its logical hardware threads grouped per core. */
import { Command } from 'commander';
import { controllerConnection, printJson, withControllerConnection } from './controller.js';
import { table } from './sessions.js';

export function resourcesCommand(): Command {
  return withControllerConnection(new Command('resources'))
    .description("list each connected node's cores and their hardware threads (get_resources)")
    .action(async (_opts, cmd: Command) => {
      const { client, json } = controllerConnection(cmd);
      const resources = await client.getResources();
      if (json) return printJson(resources);
      const rows = Object.entries(resources).map(([node, cores]) => [node, String(cores.length), cores.map((threads) => threads.join(',')).join('  ')]);
      process.stdout.write(table([['[node]', '[cores]', '[hardware threads per core]'], ...rows]));
    });
}
