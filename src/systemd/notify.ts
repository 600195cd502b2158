/**
 * sd_notify(3): tells systemd (a `Type=notify` unit) that we are ready, what we are doing, and
 * that we are stopping, by a datagram to the AF_UNIX socket named in $NOTIFY_SOCKET (a path, or
 * an abstract name written with a leading `@`).
 *
 * Node cannot send that datagram itself: `dgram` is UDP only, `net` unix sockets are streams,
 * and a native addon would need a compiler on every site machine. So each message is sent by
 * `systemd-notify`, which is installed wherever there is a systemd to listen and which handles
 * abstract names. Its known race (systemd#2737: PID 1 attributes a message by reading the
 * sender's /proc/<pid>/cgroup, gone if the sender has already exited, and drops it) is closed
 * on our side twice over:
 * - systemd-notify sends with its parent's credentials, i.e. ours, when it may (as root: the
 *   message then comes from the main PID, which systemd tracks whatever happens to /proc);
 * - since systemd 246 it waits, before exiting, until PID 1 has processed the message
 *   (sd_notify_barrier), so the sender is still alive when it is attributed.
 * Under a non-root `User=` the first falls back to the helper's own PID, which is why our units
 * say `NotifyAccess=all`. Sends are serialized, so STOPPING can never overtake READY.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';

const BIN = 'systemd-notify';

export class Notifier {
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly socket: string | null,
    private readonly logger?: Logger,
  ) {}

  /**
   * Takes $NOTIFY_SOCKET out of `env`: our children inherit the environment, and one that speaks
   * sd_notify itself must not report READY or STOPPING on our behalf.
   */
  static fromEnv(env: NodeJS.ProcessEnv, logger?: Logger): Notifier {
    const socket = env.NOTIFY_SOCKET || null;
    delete env.NOTIFY_SOCKET;
    return new Notifier(socket, logger);
  }

  /**
   * Sends `KEY=value` assignments as one message; a no-op outside systemd. Resolves once sent
   * (or failed: a failure is logged, never thrown, since systemd's start timeout is the remedy).
   */
  notify(...assignments: string[]): Promise<void> {
    if (this.socket === null) return Promise.resolve();
    const socket = this.socket;
    this.queue = this.queue.then(() => this.send(socket, assignments));
    return this.queue;
  }

  private send(socket: string, assignments: string[]): Promise<void> {
    return new Promise((resolve) => {
      let stderr = '';
      const child = spawn(BIN, assignments, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: socket },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr.on('data', (d) => (stderr += d));
      child.once('error', (err) => {
        this.logger?.error({ err, socket }, `cannot notify systemd (${assignments.join(' ')}): ${BIN} did not run`);
        resolve();
      });
      child.once('exit', (code) => {
        if (code !== 0) this.logger?.error({ socket, code, stderr: stderr.trim() }, `cannot notify systemd (${assignments.join(' ')})`);
        else this.logger?.debug({ socket, message: assignments }, 'notified systemd');
        resolve();
      });
    });
  }
}
