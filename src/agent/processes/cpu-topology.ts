/**
 * The node's cores as MUSCLE3's get_resources reports them: the logical hardware threads this
 * agent may run on, grouped per physical core. The threads come from the agent's CPU affinity —
 * `Cpus_allowed_list` in /proc/self/status, which taskset, cpusets and batch schedulers narrow;
 * `os.cpus()` and `os.availableParallelism()` do not show it — and their grouping from sysfs:
 * `thread_siblings_list` names a thread's core exactly, where `core_id` is unique only within a
 * package (and on some machines only within a die), so it is the fallback.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Cores } from '../../protocol/process.js';

/** `root` is `/` on a real machine; tests point it at a copy of /proc and /sys. */
export function cpuCores(root = '/'): Cores {
  const cpu = (n: number, file: string) => read(`${root}sys/devices/system/cpu/cpu${n}/topology/${file}`);
  const allowed =
    parseCpuList(/^Cpus_allowed_list:\s*(.*)$/m.exec(read(`${root}proc/self/status`) ?? '')?.[1]) ??
    parseCpuList(read(`${root}sys/devices/system/cpu/online`)) ??
    os.cpus().map((_, i) => i);
  const byCore = new Map<string, number[]>();
  for (const n of allowed) {
    const siblings = parseCpuList(cpu(n, 'thread_siblings_list'));
    const pkg = cpu(n, 'physical_package_id')?.trim();
    const core = cpu(n, 'core_id')?.trim();
    const key = siblings?.length ? `threads ${siblings.join(',')}` : pkg && core ? `package ${pkg} core ${core}` : `cpu ${n}`;
    byCore.set(key, [...(byCore.get(key) ?? []), n]);
  }
  return [...byCore.values()].map((threads) => threads.sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!);
}

/** The kernel's list format, `0-3,8,10-11`; null if absent or not in that format. */
export function parseCpuList(text: string | null | undefined): number[] | null {
  if (text === null || text === undefined || !/^\s*\d+(-\d+)?(,\d+(-\d+)?)*\s*$/.test(text)) return null;
  const ids = new Set<number>();
  for (const part of text.trim().split(',')) {
    const [from, to = from] = part.split('-').map(Number) as [number, number?];
    for (let i = from; i <= to!; i++) ids.add(i);
  }
  return [...ids].sort((a, b) => a - b);
}

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
