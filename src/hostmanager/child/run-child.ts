/**
 * The `runChild` actor the supervisor gives every child machine: it hands each launch to the
 * runner for its kind (native process or docker-compose service).
 */
import { fromCallback } from 'xstate';
import type { ProcessCommand, ProcessReport, RunChildInput } from './child.machine.js';
import { isDockerLaunch } from './launch.js';

/** A runner starts the child, reports on it through `sendBack`, obeys `receive`d commands, and returns its cleanup. */
export type ChildRunner = (args: {
  input: RunChildInput;
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
