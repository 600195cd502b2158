import { Command } from 'commander';
import { withHostManagerOptions } from '../hostmanager/options.js';

export function hostManagerCommand(): Command {
  return withHostManagerOptions(new Command('hostmanager'))
    .description('run the host manager daemon for this host of the site config')
    // Loaded on use: `cox status` should not pay for the daemon's dependencies.
    .action(async (_opts, cmd: Command) => (await import('../hostmanager/daemon.js')).runHostManagerDaemon(cmd));
}
