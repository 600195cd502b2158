// What the kernel says about a process, read from /proc so every manager is measured the same
// way, and the safety net that finds every process a bench run started.
//
// Each manager is started with BENCH_TAG=<unique> in its environment; its children inherit it, so
// scanning /proc/*/environ finds every process of that run (and nothing else) even when a
// manager died without cleaning up. That is how leftovers are counted and killed.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { sleep } from './util.mjs';

let ticksPerSecond;
function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm may hold spaces and parentheses; the fields we need all come after its closing ')'.
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU seconds the process (all its threads) has used so far. */
export function cpuSeconds(pid) {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

export function pgidOf(pid) {
  return Number(statFields(pid)[2]);
}

export function rssMb(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : null;
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0 but is gone for every purpose here.
    return statFields(pid)[0] !== 'Z';
  } catch {
    return false;
  }
}

const liveTags = new Set();

export function newTag(label) {
  const tag = `${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
  liveTags.add(tag);
  return tag;
}

/** The tag as an environment entry, to merge into a manager's env. */
export const tagEnv = (tag) => ({ ...process.env, BENCH_TAG: tag });

/** Pids of every live process carrying `tag`, optionally only those whose comm is `comm`. */
export function taggedPids(tag, comm) {
  const needle = `BENCH_TAG=${tag}\0`;
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1');
      if (!env.startsWith(needle) && !env.includes(`\0${needle}`)) continue;
      if (comm !== undefined && readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== comm) continue;
      if (isAlive(Number(name))) found.push(Number(name));
    } catch {
      // Gone between readdir and read, or not ours to read: either way not a leftover of ours.
    }
  }
  return found;
}

/** SIGKILLs every process of a tag (and the groups they lead); returns how many were alive. */
export function killTagged(tag) {
  const ownGroup = pgidOf(process.pid);
  const pids = taggedPids(tag);
  for (const pid of pids) {
    try {
      const pgid = pgidOf(pid);
      // Only groups the tagged process leads: never the bench's own group or a stranger's.
      if (pgid === pid && pgid !== ownGroup) process.kill(-pgid, 'SIGKILL');
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}

/** Kills whatever is left of every tag of this run, so an interrupted bench leaves nothing behind. */
export function killAllTagged() {
  let n = 0;
  for (const tag of liveTags) n += killTagged(tag);
  return n;
}

let installed = false;
export function installCleanupOnExit() {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      const n = killAllTagged();
      console.error(`\n${signal}: killed ${n} leftover bench process(es)`);
      process.exit(130);
    });
  }
  process.once('exit', () => killAllTagged());
}

function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // idle + iowait count as not busy.
  return { total: f.reduce((a, b) => a + b, 0), idle: f[3] + (f[4] ?? 0) };
}

/** A mark to pass to `busySince`: how busy the whole machine was from then until now. */
export const busyMark = () => cpuTimes();

/** % of the whole machine's capacity (all cores, every process) used since `mark`. */
export function busySince(mark) {
  const b = cpuTimes();
  const total = b.total - mark.total;
  return total > 0 ? (100 * (total - (b.idle - mark.idle))) / total : 0;
}

export async function machineBusyPct(ms = 1000) {
  const mark = busyMark();
  await sleep(ms);
  return busySince(mark);
}

/**
 * The machine is shared (other people's test runs), and a busy core skews every figure. Waits,
 * bounded, until it is nearly idle; returns how busy it was when the measurement began, which is
 * recorded next to the figures so a noisy run can be told from a clean one.
 */
export async function waitForQuiet({ thresholdPct = 15, maxWaitMs = 90_000 } = {}) {
  const deadline = performance.now() + maxWaitMs;
  let busy = await machineBusyPct();
  while (busy > thresholdPct && performance.now() < deadline) busy = await machineBusyPct();
  if (busy > thresholdPct) process.stderr.write(`(machine still ${busy.toFixed(0)} % busy) `);
  return Math.round(busy);
}
