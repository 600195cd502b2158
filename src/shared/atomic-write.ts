/** Writes a file so that a reader (or a restart after SIGKILL) sees the old content or the new, never half. */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/**
 * `durable` also survives a power loss (fsync before the rename). Without it the write survives
 * our own crash, which is all that state about still-running processes needs: a power loss ends
 * those processes too.
 */
export function writeFileAtomic(file: string, content: string, opts: { durable?: boolean } = {}): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, content);
    if (opts.durable !== false) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
