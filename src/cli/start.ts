/**
 * `cox start <node> <name> --work-dir D [--env K=V ...] [--stdout F --stderr F] -- <cmd> [args...]`:
 * starts a named process on one node (MUSCLE3's `start`). Output goes to `<work-dir>/<name>.out`
 * and `.err` unless given; every path is absolute, on the node. The exit code comes later, once,
 * through get_finished; `cox ps` shows how it stands.
 */
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { controllerConnection, printJson, withControllerConnection } from './controller.js';

interface StartOptions {
  workDir: string;
  env: Record<string, string>;
  stdout?: string;
  stderr?: string;
}

function envVar(value: string, all: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`--env takes NAME=VALUE, got "${value}"`);
  return { ...all, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function startCommand(): Command {
  return withControllerConnection(new Command('start'))
    .description('start a named process on a node (its exit code comes once, through get_finished)')
    .argument('<node>', 'the node, <gid>_<nid> exactly as `cox sessions` lists it')
    .argument('<name>', 'the name the process is known by; one running per name and node')
    .argument('<cmd>', 'the executable (put -- before it)')
    .argument('[args...]', 'its arguments')
    .requiredOption('--work-dir <dir>', 'working directory on the node (absolute)')
    .addOption(new Option('--env <NAME=VALUE>', 'set a variable on top of the agent environment; repeat for several').argParser(envVar).default({}, 'none'))
    .option('--stdout <file>', 'file for stdout, overwritten (default <work-dir>/<name>.out)')
    .option('--stderr <file>', 'file for stderr, overwritten (default <work-dir>/<name>.err)')
    .action(async (node: string, name: string, cmd: string, args: string[], opts: StartOptions, command: Command) => {
      const { client, json } = controllerConnection(command);
      const stdout = opts.stdout ?? path.posix.join(opts.workDir, `${name}.out`);
      const stderr = opts.stderr ?? path.posix.join(opts.workDir, `${name}.err`);
      const started = await client.start(node, name, opts.workDir, [cmd, ...args], opts.env, stdout, stderr);
      if (json) printJson(started);
      else process.stdout.write(`started ${started.name} on ${started.node} (${started.id})\n`);
    });
}
