/**
 * What the controller keeps for named processes (REFERENCE 3) and node resources. A process is
 * recorded together with the job that carries its start to the agent (JobStore.create with
 * `process`), under the same id, so the queue, leases and acknowledged hand-off of jobs carry it.
 *
 * A process finishes once: with the agent's report, or with a verdict reached without it (lost
 * with its agent, cancelled before it started, its start refused). The agent's report replaces a
 * verdict until the process has been handed out. `take` hands each finished process out once:
 * it marks them delivered in the transaction that reads them, under the caller's key, so a caller
 * that lost the reply asks again with the same key and gets the same batch.
 */
import type { Cores, ProcessExit, ProcessSpec } from '../../protocol/process.js';
import type { NodeKey } from './job-store.js';

export interface NewProcess {
  name: string;
  spec: ProcessSpec;
}

/** starting: its start has not reached the agent; running: the agent took it; finished. */
export type ProcessState = 'starting' | 'running' | 'finished';

export interface FinishedProcess {
  id: string;
  /** `<gid>_<nid>`. */
  node: string;
  name: string;
  exit_code: number;
  reason: string;
  /** Unix ms: when it exited (the agent's clock) or when the controller gave up on it. */
  ended: number;
}

export interface ProcessView extends Omit<FinishedProcess, 'exit_code' | 'ended'> {
  state: ProcessState;
  exit_code: number | null;
  ended: number | null;
  created: number;
  /** Handed out by get_finished. */
  delivered: boolean;
  spec: ProcessSpec;
}

export interface ProcessStore {
  /** Newest first. */
  list(limit: number): Promise<ProcessView[]>;
  /**
   * Records an agent's reports; answers the ids the agent may forget: every report that is now
   * stored, and those that can never be (unknown id, another node's process, already handed out).
   */
  report(node: NodeKey, exits: ProcessExit[]): Promise<string[]>;
  /** Finished processes not handed out yet, oldest first, at most `limit`; see above for `key`. */
  take(key: string, limit: number): Promise<FinishedProcess[]>;
  /** Unfinished processes whose start has not been acknowledged by an agent. */
  unstarted(): Promise<string[]>;
  /**
   * An agent (re)connected knowing `known`: the node's processes whose start it took but that it
   * does not know end lost — it restarted without them, or the reply to its acknowledgement was
   * lost and it never ran them. Answers their ids.
   */
  reconcile(node: NodeKey, known: readonly string[], now: number): Promise<string[]>;
  putCores(node: NodeKey, cores: Cores, now: number): Promise<void>;
  /** Reported cores of these nodes, by node name; nodes that reported none are left out. */
  cores(nodes: readonly NodeKey[]): Promise<Map<string, Cores>>;
}
