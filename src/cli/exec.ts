/**
 * `cox exec [--gid G --nid N | --role R [--role R2]] [--fanout] [--queue Q] [--timeout s] [--wait] -- <binary> [args...]`:
 * runs a program on one node, on the first available node with every role given, or with
 * `--fanout` on all of them (the `execute` command of REFERENCE 2.2). With `--wait`, prints each
 * node's result and fails unless every node succeeded.
 */
import { Command } from 'commander';
import { TERMINAL_STATES } from '../protocol/job.js';
import { waitSeconds } from '../controller/jumpscripts.js';
import { controllerConnection, integer, printJson, withControllerConnection } from './controller.js';
import { formatJob } from './jobs.js';

interface ExecOptions {
  gid?: number;
  nid?: number;
  role: string[];
  fanout: boolean;
  queue: string;
  timeout: number;
  wait: boolean;
  id?: string;
}

export function execCommand(): Command {
  return withControllerConnection(new Command('exec'))
    .description('run a program on nodes through the controller')
    .argument('<binary>', 'program to run on the node')
    .argument('[args...]', 'its arguments (put -- before them)')
    .option('--gid <gid>', 'node group id', integer('--gid'))
    .option('--nid <nid>', 'node id', integer('--nid'))
    .option('--role <role>', 'a role the node must have; repeat for several (* = any node)', (r: string, all: string[]) => [...all, r], [] as string[])
    .option('--fanout', 'run on every matching node', false)
    .option('--queue <name>', 'jobs sharing a queue run one after another on a node', '')
    .option('--timeout <s>', 'kill it after this many seconds (0 = no limit)', integer('--timeout'), 0)
    .option('--wait', 'wait for the result(s) and print them', false)
    .option('--id <id>', 'job id (default: generated)')
    .action(async (binary: string, args: string[], opts: ExecOptions, cmd: Command) => {
      if (opts.nid === undefined && opts.role.length === 0) throw new Error('give --nid (with --gid) or --role');
      const { client, json } = controllerConnection(cmd);
      const wait = waitSeconds(opts.wait, opts.timeout);
      let view = await client.submit({
        cmd: 'execute',
        args: { name: binary, args, queue: opts.queue, max_time: opts.timeout },
        ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
        ...(opts.nid !== undefined ? { nid: opts.nid } : {}),
        ...(opts.role.length ? { roles: opts.role } : {}),
        ...(opts.fanout ? { fanout: true } : {}),
        ...(opts.id ? { id: opts.id } : {}),
        ...(wait ? { wait } : {}),
      });
      // One request waits a day at most; a job allowed longer is waited for again.
      while (opts.wait && !TERMINAL_STATES.has(view.state)) view = await client.wait(view.job.id, waitSeconds(true, 0));
      if (json) printJson(view);
      else process.stdout.write(opts.wait || view.state === 'ERROR' ? formatJob(view) : `${view.job.id}\n`);
      if (view.state === 'ERROR' || (opts.wait && view.state !== 'SUCCESS')) process.exitCode = 1;
    });
}
