/** `cox jobs [id]`: recent jobs, or one job with its result from every node it went to. */
import { Command, Option } from 'commander';
import type { JobView } from '../client/controller-client.js';
import { JOB_STATES, type JobState } from '../protocol/job.js';
import { controllerConnection, integer, printJson, withControllerConnection } from './controller.js';
import { table } from './sessions.js';

export function jobsCommand(): Command {
  return withControllerConnection(new Command('jobs'))
    .description('list recent jobs, or show one job and its results')
    .argument('[id]', 'a job id')
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(JOB_STATES))
    .option('--limit <n>', 'how many jobs', integer('--limit'), 50)
    .action(async (id: string | undefined, opts: { state?: JobState; limit: number }, cmd: Command) => {
      const { client, json } = controllerConnection(cmd);
      if (id !== undefined) {
        const view = await client.get(id);
        if (json) printJson(view);
        else process.stdout.write(formatJob(view));
        return;
      }
      const jobs = await client.list({ ...(opts.state ? { state: opts.state } : {}), limit: opts.limit });
      if (json) return printJson(jobs);
      const rows = jobs.map((j) => [j.job.id, j.job.cmd, j.state, new Date(j.created).toISOString(), target(j.job)]);
      process.stdout.write(table([['[id]', '[cmd]', '[state]', '[created]', '[target]'], ...rows]));
    });
}

function target(job: JobView['job']): string {
  const where = job.nid !== null ? `node ${job.gid ?? '*'}_${job.nid}` : `roles ${job.roles.join(',')}`;
  return job.fanout ? `${where} (fanout)` : where;
}

/**
 * A job and one block per node's result: state, data, and the output tails when there are any.
 * Data that is the stdout tail (no result-level message) is shown once, as stdout; data of several
 * lines gets a block of its own, so it cannot pass for the next node's line.
 */
export function formatJob(view: JobView): string {
  const lines = [`${view.job.id}  ${view.job.cmd}  ${view.state}  ${target(view.job)}`];
  for (const r of view.results) {
    const stdout = r.streams[0] ?? '';
    const data = r.data.trim() && r.data.trimEnd() !== stdout.trimEnd() ? r.data : '';
    const inline = data && !data.trimEnd().includes('\n') ? `  ${printable(data.trim())}` : '';
    lines.push(`  ${r.gid}_${r.nid}  ${r.state}  ${(r.time / 1000).toFixed(3)} s${inline}`);
    const blocks = [['data', inline ? '' : data], ['stdout', stdout], ['stderr', r.streams[1] ?? ''], ['critical', r.critical]] as const;
    for (const [label, text] of blocks) {
      if (text.trim()) lines.push(`    ${label}: ${printable(text.trimEnd()).split('\n').join('\n      ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A job's output as text a terminal shows as it is: control characters (escape sequences) spelt out. */
function printable(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
