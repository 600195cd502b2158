/**
 * Decides, after a restart, what becomes of every native child the previous run left behind.
 * Pure: /proc is read through `startTimeOf`, so the rules are tested without processes.
 *
 * - A handle whose pid still runs with the recorded start time is our process. It is re-attached
 *   if its instance is still a host child with the same launch spec, else terminated.
 * - A handle whose pid is gone, or now names another process (other start time), is forgotten;
 *   that other process is not ours and is left alone.
 * - A process that carries our state-dir marker but has no valid handle (the previous run died
 *   between spawning it and recording it) cannot be verified, so it is terminated: a child must
 *   never run twice.
 */
import type { InstanceConfig } from '../../site-config/types.js';
import type { Adoptee } from '../child/child.machine.js';
import { launchKeyOf } from '../process/native-driver.js';
import type { ChildHandle } from './state-dir.js';

export interface ReattachPlan {
  adopt: Map<string, Adoptee>;
  terminate: { pid: number; instanceId: string; why: string }[];
  /** Handles to delete. */
  forget: string[];
}

export function planReattach(
  handles: ReadonlyMap<string, ChildHandle>,
  instances: readonly InstanceConfig[],
  marked: readonly { pid: number; id: string }[],
  startTimeOf: (pid: number) => string | null,
): ReattachPlan {
  const plan: ReattachPlan = { adopt: new Map(), terminate: [], forget: [] };
  const byId = new Map(instances.map((i) => [i.instanceId, i]));
  const accounted = new Set<number>();
  for (const [id, handle] of handles) {
    const alive = startTimeOf(handle.pid) === handle.startTime;
    if (!alive) {
      plan.forget.push(id);
      continue;
    }
    accounted.add(handle.pid);
    const instance = byId.get(id);
    if (instance?.launch && instance.manage.startsWith('host/') && launchKeyOf(instance.launch) === handle.launchKey) {
      plan.adopt.set(id, { pid: handle.pid, startTime: handle.startTime });
    } else {
      plan.forget.push(id);
      plan.terminate.push({ pid: handle.pid, instanceId: id, why: instance ? 'its launch spec changed' : 'it is no longer in the site config' });
    }
  }
  for (const { pid, id } of marked) {
    if (!accounted.has(pid)) plan.terminate.push({ pid, instanceId: id, why: 'it was never recorded, so it cannot be verified' });
  }
  return plan;
}
