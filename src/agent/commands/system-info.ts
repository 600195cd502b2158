/**
 * The node's facts for the `get_*_info` built-ins, read from /proc, `os` and statfs. Sizes are in
 * bytes. Each function answers with what it could read; a missing /proc file gives empty parts
 * rather than an error, so a container with a trimmed /proc still answers.
 */
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import os from 'node:os';

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function cpuInfo() {
  const cpus = os.cpus();
  // One block per logical CPU; `siblings` / `cpu cores` is the hardware threads per core.
  const first = read('/proc/cpuinfo').split('\n\n')[0] ?? '';
  const field = (name: string) => Number(new RegExp(`^${name}\\s*:\\s*(\\d+)`, 'm').exec(first)?.[1] ?? NaN);
  const threadsPerCore = field('siblings') / field('cpu cores');
  return {
    count: cpus.length,
    model: cpus[0]?.model ?? '',
    mhz: cpus[0]?.speed ?? 0,
    threads_per_core: Number.isFinite(threadsPerCore) && threadsPerCore > 0 ? threadsPerCore : 1,
    loadavg: os.loadavg(),
  };
}

export function memInfo() {
  const kb = new Map<string, number>();
  for (const m of read('/proc/meminfo').matchAll(/^(\w+):\s+(\d+) kB$/gm)) kb.set(m[1]!, Number(m[2]) * 1024);
  return {
    total: kb.get('MemTotal') ?? os.totalmem(),
    free: kb.get('MemFree') ?? os.freemem(),
    available: kb.get('MemAvailable') ?? os.freemem(),
    buffers: kb.get('Buffers') ?? 0,
    cached: kb.get('Cached') ?? 0,
    swap_total: kb.get('SwapTotal') ?? 0,
    swap_free: kb.get('SwapFree') ?? 0,
  };
}

const VIRTUAL_FS = new Set(['proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'securityfs', 'debugfs', 'tracefs', 'pstore', 'bpf', 'mqueue', 'hugetlbfs', 'fusectl', 'configfs', 'autofs', 'binfmt_misc', 'nsfs', 'rpc_pipefs']);

export async function diskInfo() {
  const mounts = read('/proc/mounts')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length >= 3 && !VIRTUAL_FS.has(f[2]!))
    .map(([device, mountpoint, fstype]) => ({ device: device!, mountpoint: unescapeMount(mountpoint!), fstype: fstype! }));
  const disks = await Promise.all(
    mounts.map(async (m) => {
      try {
        const s = await statfs(m.mountpoint);
        return { ...m, total: s.blocks * s.bsize, free: s.bfree * s.bsize, available: s.bavail * s.bsize };
      } catch {
        return null;
      }
    }),
  );
  return disks.filter((d) => d !== null);
}

/** /proc/mounts writes a space in a path as `\040`. */
function unescapeMount(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function nicInfo() {
  const counters = new Map<string, number[]>();
  for (const line of read('/proc/net/dev').split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (name && rest) counters.set(name.trim(), rest.trim().split(/\s+/).map(Number));
  }
  return Object.entries(os.networkInterfaces()).map(([name, addrs]) => {
    const c = counters.get(name) ?? [];
    return {
      name,
      mac: addrs?.[0]?.mac ?? '',
      addresses: (addrs ?? []).map((a) => a.cidr ?? a.address),
      rx_bytes: c[0] ?? 0,
      rx_packets: c[1] ?? 0,
      tx_bytes: c[8] ?? 0,
      tx_packets: c[9] ?? 0,
    };
  });
}

export function osInfo() {
  const release = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(read('/etc/os-release'))?.[1] ?? '';
  return {
    hostname: os.hostname(),
    type: os.type(),
    platform: os.platform(),
    arch: os.arch(),
    kernel: os.release(),
    distribution: release,
    uptime: os.uptime(),
  };
}
