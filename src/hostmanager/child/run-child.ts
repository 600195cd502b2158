/**
 * The `runChild` actor the supervisor gives every child machine: it hands each launch to the
 * runner for its kind (native process or docker-compose service). And the `clearChild` actor,
 * which only docker children use.
 */
import { fromCallback } from 'xstate';
import type { ClearChildInput, ProcessCommand, ProcessReport, RunChildInput } from './child.machine.js';
import { isDockerLaunch } from './launch.js';

/** A runner starts the child, reports on it through `sendBack`, obeys `receive`d commands, and returns its cleanup. */
export type ChildRunner<I = RunChildInput> = (args: {
  input: I;
  sendBack: (event: ProcessReport) => void;
  receive: (listener: (command: ProcessCommand) => void) => void;
}) => () => void;

export function runChildLogic(runners: { native: ChildRunner; docker?: ChildRunner }) {
  return fromCallback<ProcessCommand, RunChildInput>(({ input, sendBack, receive }) => {
    const runner = isDockerLaunch(input.launch) ? runners.docker : runners.native;
    if (!runner) {
      sendBack({ type: 'SPAWN_FAILED', message: 'docker children need --docker-compose', recoverable: false });
      return;
    }
    return runner({ input, sendBack, receive });
  });
}

/** `clear` brings the child's service down and reports EXITED when it is; KILL hurries it. */
export function clearChildLogic(clear: ChildRunner<ClearChildInput>) {
  return fromCallback<ProcessCommand, ClearChildInput>(({ input, sendBack, receive }) => clear({ input, sendBack, receive }));
}
