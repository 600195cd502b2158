/**
 * The agent's built-in commands (REFERENCE 2.4, and the named-process ones of REFERENCE 3). They
 * answer at once and take none of the agent's `max_jobs` slots, so the controller stores them
 * urgent: offered ahead of queued jobs, and to an agent whose slots are all taken.
 */
import { CANCEL_PROCESSES, START_PROCESS } from './process.js';

export const BUILTIN_COMMANDS = [
  'ping',
  'kill',
  'killall',
  'get_msgs',
  'get_process_stats',
  'get_cpu_info',
  'get_mem_info',
  'get_disk_info',
  'get_nic_info',
  'get_os_info',
  'restart',
  START_PROCESS,
  CANCEL_PROCESSES,
] as const;
export type BuiltinCommand = (typeof BUILTIN_COMMANDS)[number];

const builtins: ReadonlySet<string> = new Set(BUILTIN_COMMANDS);

export function isBuiltinCommand(cmd: string): cmd is BuiltinCommand {
  return builtins.has(cmd);
}
