/** The `runChild` actor for native children: bridges a NativeProcess to the child machine. */
import { fromCallback } from 'xstate';
import type { ProcessCommand, ProcessReport, RunChildInput } from '../child/child.machine.js';
import { NativeProcess } from './native-process.js';

/** `logDir` is read at each launch, so a reloaded SCF with a new `log-dir` takes effect. */
export function nativeRunChild(logDir: string | (() => string)) {
  return fromCallback<ProcessCommand, RunChildInput>(({ input, sendBack, receive }) => {
    const report = (event: ProcessReport) => sendBack(event);
    const dir = typeof logDir === 'function' ? logDir() : logDir;
    const proc = new NativeProcess(input.instanceId, input.launch, dir, {
      onSpawn: (pid) => report({ type: 'SPAWNED', pid }),
      onExit: (code, signal) => report({ type: 'EXITED', code, signal }),
      onSpawnError: (message, recoverable) => report({ type: 'SPAWN_FAILED', message, recoverable }),
    });
    receive((command) => proc.signalGroup(command.type === 'TERM' ? 'SIGTERM' : 'SIGKILL'));
    proc.start();
    // The machine stops this actor only once the child exited, or when the supervisor is torn
    // down without a graceful stop; in that case nothing may be left running behind us.
    return () => {
      if (proc.running) proc.signalGroup('SIGKILL');
    };
  });
}
