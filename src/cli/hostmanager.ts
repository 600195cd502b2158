import { Command } from 'commander';
import { runHostManagerDaemon } from '../hostmanager/daemon.js';
import { withHostManagerOptions } from '../hostmanager/options.js';

export function hostManagerCommand(): Command {
  return withHostManagerOptions(new Command('hostmanager'))
    .description('run the host manager daemon for this host of the site config')
    .action(async (_opts, cmd: Command) => runHostManagerDaemon(cmd));
}
