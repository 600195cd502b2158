import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuCores, parseCpuList } from '../../../src/agent/processes/cpu-topology.js';
import { tempDir } from '../../helpers/agent-harness.js';

/** A fake root: /proc/self/status with `allowed`, and per cpu its topology files (null: absent). */
function fakeRoot(allowed: string | null, cpus: Record<number, { siblings?: string; core?: number; pkg?: number }>): string {
  const root = tempDir('cox-topo-');
  mkdirSync(join(root, 'proc/self'), { recursive: true });
  writeFileSync(join(root, 'proc/self/status'), `Name:\tnode\n${allowed === null ? '' : `Cpus_allowed_list:\t${allowed}\n`}Mems_allowed_list:\t0\n`);
  mkdirSync(join(root, 'sys/devices/system/cpu'), { recursive: true });
  writeFileSync(join(root, 'sys/devices/system/cpu/online'), `0-${Object.keys(cpus).length - 1}\n`);
  for (const [n, t] of Object.entries(cpus)) {
    const dir = join(root, `sys/devices/system/cpu/cpu${n}/topology`);
    mkdirSync(dir, { recursive: true });
    if (t.siblings !== undefined) writeFileSync(join(dir, 'thread_siblings_list'), `${t.siblings}\n`);
    if (t.core !== undefined) writeFileSync(join(dir, 'core_id'), `${t.core}\n`);
    if (t.pkg !== undefined) writeFileSync(join(dir, 'physical_package_id'), `${t.pkg}\n`);
  }
  return `${root}/`;
}

/** Two packages of two cores with two threads each, numbered as Linux does: siblings n and n+4. */
const SMT = Object.fromEntries(
  [0, 1, 2, 3, 4, 5, 6, 7].map((n) => [n, { siblings: `${n % 4},${(n % 4) + 4}`, core: n % 2, pkg: Math.floor((n % 4) / 2) }]),
);

describe('cpu topology', () => {
  it('parses the kernel list format and refuses anything else', () => {
    expect(parseCpuList('0-3,8,10-11\n')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('5')).toEqual([5]);
    expect(parseCpuList('')).toBeNull();
    expect(parseCpuList('0-3:2')).toBeNull();
    expect(parseCpuList(null)).toBeNull();
  });

  it('groups the allowed hardware threads per core by thread siblings', () => {
    expect(cpuCores(fakeRoot('0-7', SMT))).toEqual([[0, 4], [1, 5], [2, 6], [3, 7]]);
    // taskset -c 1,2,5: core 1 keeps both threads, core 2 one, the others none.
    expect(cpuCores(fakeRoot('1-2,5', SMT))).toEqual([[1, 5], [2]]);
  });

  it('tells cores apart by package when only core_id is there (ids repeat across packages)', () => {
    const noSiblings = Object.fromEntries(Object.entries(SMT).map(([n, t]) => [n, { core: t.core, pkg: t.pkg }]));
    expect(cpuCores(fakeRoot('0-7', noSiblings))).toEqual([[0, 4], [1, 5], [2, 6], [3, 7]]);
  });

  it('counts each thread as a core without topology, and uses the online list without an affinity', () => {
    expect(cpuCores(fakeRoot(null, { 0: {}, 1: {}, 2: {} }))).toEqual([[0], [1], [2]]);
  });

  it("matches lscpu on this machine's own /proc and /sys", (ctx) => {
    let lscpu: string;
    try {
      lscpu = execFileSync('lscpu', ['-p=CPU,CORE,SOCKET'], { encoding: 'utf8' });
    } catch {
      return ctx.skip();
    }
    const allowed = new Set(parseCpuList(/^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]));
    const byCore = new Map<string, number[]>();
    for (const line of lscpu.split('\n').filter((l) => /^\d/.test(l))) {
      const [cpu, core, socket] = line.split(',').map(Number) as [number, number, number];
      if (allowed.has(cpu)) byCore.set(`${socket}/${core}`, [...(byCore.get(`${socket}/${core}`) ?? []), cpu]);
    }
    const expected = [...byCore.values()].sort((a, b) => a[0]! - b[0]!);
    expect(cpuCores()).toEqual(expected);
    expect(cpuCores().flat().length).toBe(allowed.size);
  });
});
