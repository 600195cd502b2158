/**
 * The life of one supervised child, as a pure XState machine. Side effects (spawning, signalling)
 * live in the `runChild` actor, which the supervisor supplies with `.provide()`; tests supply a
 * fake and a SimulatedClock.
 *
 * States, and the OCS `next_action` each one reports:
 * - `unoperable`        `?`          no way to launch it (no command, docker service not found)
 * - `down`              `down`       not running, target down
 * - `running.starting`  `wait_start` launch requested, the process has not spawned yet
 * - `running.up`        `up`         the process is running
 * - `running.stopping`  `wait_dead`  SIGTERM sent to its group; SIGKILL after the grace time
 * - `backoff`           `start_at`   exited unexpectedly, waiting to relaunch
 * - `clearing`          `wait_dead`  a docker child told `down` while in backoff: its service is brought down
 * `exited` and `afterStop` are transient decision points and are never observed from outside.
 */
import { and, assign, sendTo, setup, fromCallback } from 'xstate';
import { isDockerLaunch, type ChildLaunch } from './launch.js';
import {
  decideRestart,
  describeExit,
  FIRST_EXIT_STATE,
  immediateRelaunchAfterMs,
  INITIAL_RESTART_STATE,
  type ExitFacts,
  type RestartPolicyConfig,
  type RestartState,
} from './restart-policy.js';
import { pruneExits } from './stability.js';

export type Target = 'up' | 'down';

/** Sent by the `runChild` actor to the machine. */
export type ProcessReport =
  | { type: 'SPAWNED'; pid: number }
  /** `note` says what happened when code and signal cannot, e.g. a container left running. */
  | { type: 'EXITED'; code: number | null; signal: string | null; note?: string }
  | { type: 'SPAWN_FAILED'; message: string; recoverable: boolean };

/** Sent by the machine to the `runChild` actor. */
export type ProcessCommand = { type: 'TERM' } | { type: 'KILL' };

export interface ChildSpec {
  launch: ChildLaunch | null;
  notOperableReason: string | null;
  stopGraceMs: number;
  policy: RestartPolicyConfig;
}

export type ChildEvent =
  | ProcessReport
  | { type: 'SET_TARGET'; target: Target }
  /** The launch-relevant part of the config changed: a running child is restarted with it. */
  | ({ type: 'RECONFIGURE' } & ChildSpec)
  /** Settings that take effect without a restart. */
  | { type: 'TUNE'; stopGraceMs: number; policy: RestartPolicyConfig };

/** A process launched by an earlier run of the host manager, to supervise instead of launching. */
export interface Adoptee {
  pid: number;
  startTime: string;
}

export interface ChildInput extends ChildSpec {
  instanceId: string;
  target: Target;
  adopt?: Adoptee | null;
  now: () => number;
  rand: () => number;
}

export interface ChildContext extends ChildInput {
  pid: number | null;
  startedAt: number | null;
  restart: RestartState;
  /** Times of unexpected exits inside the stability window. */
  exits: number[];
  /** Unexpected exits since the child was added. */
  crashes: number;
  /** Why the child is where it is, for operators. */
  reason: string;
  nextStartAt: number | null;
  nextDelayMs: number;
  lastExit: string | null;
}

export interface RunChildInput {
  instanceId: string;
  launch: ChildLaunch;
  /** Set on the first launch after a restart, when the child is still running. */
  adopt: Adoptee | null;
  quickRelaunch: QuickRelaunch;
}

/** For the `clearChild` actor, which brings down whatever still runs of a child without a process. */
export interface ClearChildInput {
  instanceId: string;
  launch: ChildLaunch;
}

/**
 * The restart policy's answer given before the exit: after a run this long (ms) the process is
 * relaunched at once, and then likewise after `thenAfterMs`. A process launcher may act on it
 * without waiting for the machine, which reaches the same decision when the exit is reported.
 */
export interface QuickRelaunch {
  afterMs: number;
  thenAfterMs: number;
}

const exitFacts = (ctx: ChildContext, ev: ChildEvent): ExitFacts => {
  const exitedAt = ctx.now();
  if (ev.type === 'SPAWN_FAILED') {
    return { startedAt: null, exitedAt, code: null, signal: null, startError: { message: ev.message, recoverable: ev.recoverable } };
  }
  if (ev.type === 'EXITED') return { startedAt: ctx.startedAt, exitedAt, code: ev.code, signal: ev.signal, note: ev.note };
  throw new Error(`not an exit event: ${ev.type}`);
};

export const childMachine = setup({
  types: {
    context: {} as ChildContext,
    events: {} as ChildEvent,
    input: {} as ChildInput,
  },
  actors: {
    // Replaced by the supervisor; this default only makes a missing .provide() obvious.
    runChild: fromCallback<ProcessCommand, RunChildInput>(({ sendBack }) => {
      sendBack({ type: 'SPAWN_FAILED', message: 'no process driver provided', recoverable: false });
    }),
    // Replaced by the supervisor when it has docker children; without them nothing runs unseen.
    clearChild: fromCallback<ProcessCommand, ClearChildInput>(({ sendBack }) => {
      sendBack({ type: 'EXITED', code: null, signal: null });
    }),
  },
  guards: {
    operable: ({ context }) => context.launch !== null,
    wantsUp: ({ context }) => context.target === 'up',
    wantsDown: ({ event }) => event.type === 'SET_TARGET' && event.target === 'down',
    wantsDownNow: ({ context }) => context.target === 'down',
    relaunchNow: ({ context }) => context.nextDelayMs === 0,
    // A container can be started by hand, or left running by a `compose up` that then failed,
    // while the machine waits to relaunch it; a process cannot.
    mayRunUnseen: ({ context }) => isDockerLaunch(context.launch),
  },
  delays: {
    stopGrace: ({ context }) => context.stopGraceMs,
    restartDelay: ({ context }) => context.nextDelayMs,
  },
  actions: {
    setTarget: assign({ target: ({ context, event }) => (event.type === 'SET_TARGET' ? event.target : context.target) }),
    reconfigure: assign(({ event }) => {
      if (event.type !== 'RECONFIGURE') return {};
      const { type: _type, ...spec } = event;
      return { ...spec, restart: INITIAL_RESTART_STATE };
    }),
    noteLaunch: assign({
      nextStartAt: null,
      pid: null,
      startedAt: null,
    }),
    noteSpawned: assign(({ context, event }) => {
      if (event.type !== 'SPAWNED') return {};
      const how = context.adopt ? 're-attached' : 'running';
      return { pid: event.pid, startedAt: context.now(), reason: `${how} (pid ${event.pid})`, adopt: null };
    }),
    noteStopped: assign(({ context, event }) => ({
      pid: null,
      adopt: null,
      lastExit: event.type === 'EXITED' ? describeExit(exitFacts(context, event)) : context.lastExit,
      reason: context.target === 'up' ? 'restarting with new configuration' : 'stopped on request',
    })),
    noteUnexpectedExit: assign(({ context, event }) => {
      const facts = exitFacts(context, event);
      const decision = decideRestart(context.policy, context.restart, facts, context.rand);
      return {
        pid: null,
        adopt: null,
        restart: decision.state,
        crashes: context.crashes + 1,
        exits: [...pruneExits(context.exits, facts.exitedAt), facts.exitedAt],
        lastExit: describeExit(facts),
        reason: decision.reason,
        nextDelayMs: decision.delayMs,
        nextStartAt: facts.exitedAt + decision.delayMs,
      };
    }),
    noteDownOnRequest: assign({ reason: 'stopped on request' }),
    noteNotRelaunched: assign({ reason: 'not relaunched: its target is down' }),
    tune: assign(({ event }) => (event.type === 'TUNE' ? { stopGraceMs: event.stopGraceMs, policy: event.policy } : {})),
    term: sendTo('proc', { type: 'TERM' } satisfies ProcessCommand),
    kill: sendTo('proc', { type: 'KILL' } satisfies ProcessCommand),
  },
}).createMachine({
  id: 'child',
  context: ({ input }) => ({
    ...input,
    adopt: input.adopt ?? null,
    pid: null,
    startedAt: null,
    restart: INITIAL_RESTART_STATE,
    exits: [],
    crashes: 0,
    reason: input.launch === null ? (input.notOperableReason ?? 'not operable') : 'not started',
    nextStartAt: null,
    nextDelayMs: 0,
    lastExit: null,
  }),
  initial: 'init',
  on: { TUNE: { actions: 'tune' } },
  states: {
    init: {
      always: [
        { guard: { type: 'operable' }, target: 'decide' },
        { target: 'unoperable' },
      ],
    },
    decide: {
      // A re-attached process is supervised whatever its target; `down` then stops it.
      always: [
        { guard: ({ context }) => context.adopt != null, target: 'running' },
        { guard: 'wantsUp', target: 'running' },
        { target: 'down' },
      ],
    },
    unoperable: {
      entry: assign({ reason: ({ context }) => context.notOperableReason ?? 'not operable' }),
      on: {
        SET_TARGET: { actions: 'setTarget' },
        RECONFIGURE: { actions: 'reconfigure', target: 'init' },
      },
    },
    down: {
      on: {
        SET_TARGET: { actions: 'setTarget', target: 'decide' },
        RECONFIGURE: { actions: 'reconfigure', target: 'init' },
      },
    },
    running: {
      entry: 'noteLaunch',
      invoke: {
        id: 'proc',
        src: 'runChild',
        // `running` is only entered through `decide`, which checks `operable`.
        input: ({ context }) => ({
          instanceId: context.instanceId,
          launch: context.launch!,
          adopt: context.adopt ?? null,
          quickRelaunch: { afterMs: immediateRelaunchAfterMs(context.policy, context.restart), thenAfterMs: immediateRelaunchAfterMs(context.policy, FIRST_EXIT_STATE) },
        }),
      },
      initial: 'starting',
      on: {
        SET_TARGET: [{ guard: 'wantsDown', actions: 'setTarget', target: '.stopping' }, { actions: 'setTarget' }],
        RECONFIGURE: { actions: 'reconfigure', target: '.stopping' },
        EXITED: { actions: 'noteUnexpectedExit', target: 'exited' },
        SPAWN_FAILED: { actions: 'noteUnexpectedExit', target: 'exited' },
      },
      states: {
        starting: {
          on: { SPAWNED: [{ guard: 'wantsDownNow', actions: 'noteSpawned', target: 'stopping' }, { actions: 'noteSpawned', target: 'up' }] },
        },
        up: {},
        stopping: {
          entry: 'term',
          after: { stopGrace: { actions: 'kill' } },
          on: {
            // Already stopping: only remember what the operator wants once it is gone.
            SET_TARGET: { actions: 'setTarget' },
            RECONFIGURE: { actions: 'reconfigure' },
            SPAWNED: { actions: ['noteSpawned', 'term'] },
            EXITED: { actions: 'noteStopped', target: '#child.afterStop' },
            SPAWN_FAILED: { actions: 'noteStopped', target: '#child.afterStop' },
          },
        },
      },
    },
    afterStop: {
      always: [{ guard: { type: 'operable' }, target: 'decide' }, { target: 'unoperable' }],
    },
    exited: {
      always: [
        { guard: 'wantsDownNow', actions: 'noteNotRelaunched', target: 'down' },
        { guard: 'relaunchNow', target: 'running' },
        { target: 'backoff' },
      ],
    },
    backoff: {
      after: { restartDelay: { target: 'decide' } },
      on: {
        // `up` again must not cut a crash loop's backoff short; `down` ends the wait.
        SET_TARGET: [
          { guard: and(['wantsDown', 'mayRunUnseen']), actions: 'setTarget', target: 'clearing' },
          { guard: 'wantsDown', actions: ['setTarget', 'noteDownOnRequest'], target: 'down' },
          { actions: 'setTarget' },
        ],
        RECONFIGURE: { actions: 'reconfigure', target: 'init' },
      },
    },
    clearing: {
      invoke: {
        id: 'proc',
        src: 'clearChild',
        // Only docker children get here (`mayRunUnseen`), and they have a launch.
        input: ({ context }) => ({ instanceId: context.instanceId, launch: context.launch! }),
      },
      after: { stopGrace: { actions: 'kill' } },
      on: {
        SET_TARGET: { actions: 'setTarget' },
        RECONFIGURE: { actions: 'reconfigure' },
        // The last exit stays the crash's: this run had no process of its own.
        EXITED: { actions: 'noteDownOnRequest', target: 'afterStop' },
        SPAWN_FAILED: { actions: 'noteDownOnRequest', target: 'afterStop' },
      },
    },
  },
});

export type ChildMachine = typeof childMachine;

/** The OCS `next_action` for a snapshot's state value. */
export function nextAction(value: unknown): string {
  if (value === 'unoperable') return '?';
  if (value === 'down') return 'down';
  if (value === 'backoff') return 'start_at';
  if (value === 'clearing') return 'wait_dead';
  if (typeof value === 'object' && value !== null && 'running' in value) {
    const sub = (value as { running: string }).running;
    return sub === 'starting' ? 'wait_start' : sub === 'stopping' ? 'wait_dead' : 'up';
  }
  return 'start';
}
