/**
 * CPU and memory of jobs, from /proc: a job is its whole process group, so a shell script's
 * children count towards it. CPU is the percentage of one core used since the previous sample of
 * the group (or since its leader started, for the first), memory the resident set in bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface GroupUsage {
  pgid: number;
  processes: number;
  cpuPercent: number;
  rssBytes: number;
}

/** USER_HZ: the unit of /proc times, 100 on every Linux ABI Node runs on. */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pgrp: number;
  ticks: number;
  startTicks: number;
}

function readStat(pid: string): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; the fields after its `)` are plain.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pgrp: Number(f[2]), ticks: Number(f[11]) + Number(f[12]), startTicks: Number(f[19]) };
  } catch {
    return null;
  }
}

function rssBytes(pid: string): number {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function uptimeSeconds(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

export class ProcSampler {
  private readonly previous = new Map<number, { ticks: number; at: number }>();

  sample(pgids: readonly number[]): Map<number, GroupUsage> {
    const wanted = new Set(pgids);
    const now = Date.now();
    const totals = new Map<number, { processes: number; ticks: number; rss: number; leaderStart: number | null }>();
    if (wanted.size > 0) {
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = readStat(entry);
        if (!stat || !wanted.has(stat.pgrp)) continue;
        const t = totals.get(stat.pgrp) ?? { processes: 0, ticks: 0, rss: 0, leaderStart: null };
        t.processes++;
        t.ticks += stat.ticks;
        t.rss += rssBytes(entry);
        if (Number(entry) === stat.pgrp) t.leaderStart = stat.startTicks;
        totals.set(stat.pgrp, t);
      }
    }
    const usage = new Map<number, GroupUsage>();
    const uptime = wanted.size > 0 ? uptimeSeconds() : 0;
    for (const [pgid, t] of totals) {
      const before = this.previous.get(pgid);
      const seconds = before ? (now - before.at) / 1000 : uptime - (t.leaderStart ?? 0) / TICKS_PER_SECOND;
      const used = (t.ticks - (before?.ticks ?? 0)) / TICKS_PER_SECOND;
      const cpuPercent = seconds > 0 ? Math.max(0, Math.round((used / seconds) * 1000) / 10) : 0;
      usage.set(pgid, { pgid, processes: t.processes, cpuPercent, rssBytes: t.rss });
      this.previous.set(pgid, { ticks: t.ticks, at: now });
    }
    for (const pgid of this.previous.keys()) if (!totals.has(pgid)) this.previous.delete(pgid);
    return usage;
  }
}
