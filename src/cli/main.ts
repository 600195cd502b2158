#!/usr/bin/env node
/** `cox`: the coxswain command line, in the spirit of OCS's ocsbow. One file per subcommand. */
import { Command } from 'commander';
import { isCoxError } from '../shared/errors.js';
import { agentCommand } from './agent.js';
import { cancelAllCommand } from './cancel-all.js';
import { controllerCommand } from './controller.js';
import { execCommand } from './exec.js';
import { hostManagerCommand } from './hostmanager.js';
import { jobsCommand } from './jobs.js';
import { installSystemdCommand } from './install-systemd.js';
import { logsCommand } from './logs.js';
import { psCommand } from './ps.js';
import { resourcesCommand } from './resources.js';
import { sessionsCommand } from './sessions.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { upDownCommand } from './up-down.js';

const program = new Command('cox')
  .description('coxswain: keeps every agent of a host in the state operators asked for')
  .showHelpAfterError()
  .addCommand(hostManagerCommand())
  .addCommand(statusCommand())
  .addCommand(upDownCommand('up'))
  .addCommand(upDownCommand('down'))
  .addCommand(logsCommand())
  .addCommand(installSystemdCommand())
  .addCommand(controllerCommand())
  .addCommand(execCommand())
  .addCommand(jobsCommand())
  .addCommand(sessionsCommand())
  .addCommand(startCommand())
  .addCommand(psCommand())
  .addCommand(cancelAllCommand())
  .addCommand(resourcesCommand())
  .addCommand(agentCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`cox: ${isCoxError(err) || err instanceof Error ? err.message : String(err)}\n`);
  process.exit(isCoxError(err) && err.statusCode === 400 ? 2 : 1);
});
