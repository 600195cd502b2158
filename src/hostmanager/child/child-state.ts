/** The row a child shows to operators: OCS's `child_states` entry plus what coxswain adds. */
import type { SnapshotFrom } from 'xstate';
import { nextAction, type ChildMachine } from './child.machine.js';
import { stability } from './stability.js';

export interface ChildState {
  instance_id: string;
  agent_class: string;
  target_state: string;
  next_action: string;
  stability: number;
  operable: boolean;
  restart_required: boolean;
  /** coxswain additions, ignored by OCS clients. */
  pid: number | null;
  reason: string;
  last_exit: string | null;
  /** Unexpected exits since the child was added. */
  crashes: number;
  /** Unix seconds of the next relaunch while in `start_at`. */
  next_start_at: number | null;
  /** Unix seconds since which the current process has run. */
  up_since: number | null;
}

export function childState(
  agentClass: string,
  snapshot: SnapshotFrom<ChildMachine>,
  now: number,
  targetOverride?: string,
): ChildState {
  const ctx = snapshot.context;
  const action = nextAction(snapshot.value);
  return {
    instance_id: ctx.instanceId,
    agent_class: agentClass,
    target_state: targetOverride ?? ctx.target,
    next_action: action,
    stability: Math.round(stability(ctx.exits, now) * 1000) / 1000,
    operable: ctx.launch !== null,
    restart_required: false,
    pid: ctx.pid,
    reason: ctx.reason,
    last_exit: ctx.lastExit,
    crashes: ctx.crashes,
    next_start_at: action === 'start_at' && ctx.nextStartAt !== null ? ctx.nextStartAt / 1000 : null,
    up_since: action === 'up' && ctx.startedAt !== null ? ctx.startedAt / 1000 : null,
  };
}
