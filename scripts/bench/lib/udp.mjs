// The crash bench's clock: every launch of the test child sends its pid in one datagram, and the
// arrival time of that datagram is when the relaunch is complete (the child runs and can talk).
import { createSocket } from 'node:dgram';

/**
 * The child every manager runs in the crash bench. bash reports its own pid and then execs
 * sleep, so the pid it sent is the pid the manager supervises and the bench kills.
 *
 * `--norc`: a manager that gives its child a socket as stdin (PM2 does) makes Debian's bash take
 * itself for a remote shell and source ~/.bashrc, which on a machine whose .bashrc runs
 * `pyenv init` cost that manager ~100 ms per launch: the user's shell setup, not the manager.
 */
export function reporterArgv(port) {
  return ['/bin/bash', '--norc', '-c', `exec 3<>/dev/udp/127.0.0.1/${port}; echo $$ >&3; exec sleep 1000000`];
}

export async function pidListener() {
  const socket = createSocket('udp4');
  const queue = [];
  let waiter = null;
  socket.on('message', (msg) => {
    // Stamp first: anything done before this line would count against the manager.
    const at = performance.now();
    const pid = Number(String(msg).trim());
    if (!Number.isInteger(pid) || pid <= 0) return;
    queue.push({ pid, at });
    if (waiter) {
      const w = waiter;
      waiter = null;
      w();
    }
  });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', resolve);
  });
  return {
    port: socket.address().port,
    /** The next report, or a rejection after `timeoutMs`. */
    async next(timeoutMs) {
      if (queue.length === 0) {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            waiter = null;
            reject(new Error(`no pid report within ${timeoutMs} ms`));
          }, timeoutMs);
          waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return queue.shift();
    },
    /** Reports nobody waited for: a relaunch the bench did not cause. */
    drain() {
      return queue.splice(0, queue.length);
    },
    close() {
      socket.close();
    },
  };
}
