import path from 'node:path';
import type { AgentClassEntry, InstanceEntry } from './schema.js';
import type { InstanceConfig } from './types.js';

/**
 * How a host-managed instance is launched: its own `command`/`cwd`/`env` over those of its
 * `agent-classes:` entry (env merged key by key), with `arguments` appended to the command.
 */
export function resolveLaunch(
  entry: InstanceEntry,
  agentClass: AgentClassEntry | undefined,
  scfDir: string,
): Pick<InstanceConfig, 'launch' | 'notOperableReason'> {
  const command = entry.command ?? agentClass?.command;
  if (!command) {
    return {
      launch: null,
      notOperableReason:
        `agent-class "${entry['agent-class']}" has no command: ` +
        'add a command: to the instance or an agent-classes: entry',
    };
  }
  return {
    launch: {
      argv: [...command, ...(entry.arguments ?? [])],
      // Against the SCF's own directory, not the working dir, so that a file shipped next to its
      // agents (this repo's site-config/default.yaml) works wherever the host manager is started.
      cwd: path.resolve(scfDir, entry.cwd ?? agentClass?.cwd ?? '.'),
      env: { ...agentClass?.env, ...entry.env },
    },
  };
}
