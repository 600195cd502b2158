/** `cox sessions`: the nodes connected to the controller, their roles and when each was last seen. */
import { Command } from 'commander';
import { controllerConnection, printJson, withControllerConnection } from './controller.js';

export function sessionsCommand(): Command {
  return withControllerConnection(new Command('sessions'))
    .description('list the nodes connected to the controller (listSessions)')
    .action(async (_opts, cmd: Command) => {
      const { client, json } = controllerConnection(cmd);
      const sessions = await client.listSessions();
      if (json) return printJson(sessions);
      const now = Date.now() / 1000;
      const rows = Object.entries(sessions).map(([node, [seen, ...roles]]) => [node, `${Math.max(0, Math.round(now - seen))} s ago`, roles.join(',') || '-']);
      process.stdout.write(table([['[node]', '[last seen]', '[roles]'], ...rows]));
    });
}

/** Left-aligned columns two spaces apart. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`).join('');
}
