/**
 * What must survive a host manager restart, kept in `--state-dir`:
 * - `targets.json`: targets set by `update` (OCS lost them on restart: its issue #348);
 * - `children/<instance-id>.json`: a handle (pid, start time, launch key) per running native
 *   child, written as soon as it spawns, so a host manager restarted after SIGKILL re-attaches
 *   to it instead of launching it twice.
 * Every write is atomic (write, fsync, rename).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../shared/atomic-write.js';
import type { Target } from '../child/child.machine.js';

export interface ChildHandle {
  pid: number;
  /** Clock ticks since boot, from /proc/<pid>/stat. */
  startTime: string;
  /** The launch spec the process was started with, to tell whether it still matches the SCF. */
  launchKey: string;
}

export class StateDir {
  readonly dir: string;
  private readonly childrenDir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.childrenDir = join(this.dir, 'children');
    mkdirSync(this.childrenDir, { recursive: true });
  }

  loadTargets(): Map<string, Target> {
    const raw = readJson(join(this.dir, 'targets.json'));
    const targets = new Map<string, Target>();
    if (raw && typeof raw === 'object') {
      for (const [id, t] of Object.entries(raw as Record<string, unknown>)) if (t === 'up' || t === 'down') targets.set(id, t);
    }
    return targets;
  }

  saveTargets(targets: ReadonlyMap<string, Target>): void {
    writeFileAtomic(join(this.dir, 'targets.json'), `${JSON.stringify(Object.fromEntries(targets), null, 1)}\n`);
  }

  writeHandle(instanceId: string, handle: ChildHandle): void {
    writeFileAtomic(this.handleFile(instanceId), JSON.stringify(handle), { durable: false });
  }

  removeHandle(instanceId: string): void {
    rmSync(this.handleFile(instanceId), { force: true });
  }

  loadHandles(): Map<string, ChildHandle> {
    const handles = new Map<string, ChildHandle>();
    for (const name of readdirSync(this.childrenDir)) {
      if (!name.endsWith('.json')) continue;
      const h = readJson(join(this.childrenDir, name)) as Partial<ChildHandle> | null;
      if (h && typeof h.pid === 'number' && typeof h.startTime === 'string' && typeof h.launchKey === 'string') {
        handles.set(decodeURIComponent(name.slice(0, -5)), h as ChildHandle);
      }
    }
    return handles;
  }

  private handleFile(instanceId: string): string {
    // Instance ids are free text in the SCF; encoding keeps them one path segment.
    return join(this.childrenDir, `${encodeURIComponent(instanceId)}.json`);
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}
