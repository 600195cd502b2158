/**
 * Size-based rotation of a log file that another process keeps open for writing.
 *
 * A child holds its log file open with O_APPEND (it inherited the fd, we never see its writes), so
 * rename-and-reopen, the usual rotation, is impossible: the child would go on writing into the
 * renamed file. We copy then truncate instead (logrotate's `copytruncate`): shift `.1`…`.keep-1`
 * up by one, copy the file to `.1`, then truncate it to 0. O_APPEND makes the child's next write
 * land at the new end, 0, so the file does not turn sparse.
 *
 * The one loss: bytes the child writes between our last read reaching end-of-file and the
 * truncate. The copy loop reads until it catches up with the writer and truncates right after
 * on the same handle, so the window is two syscalls wide, not the length of the copy. Closing it
 * would need the truncate and the copy to be one atomic step, which Linux offers only as
 * fallocate(FALLOC_FL_COLLAPSE_RANGE), block-aligned and out of Node's reach.
 */
import { open, rename, type FileHandle } from 'node:fs/promises';

const CHUNK = 1024 * 1024;

export function rotatedName(file: string, n: number): string {
  return `${file}.${n}`;
}

/**
 * Rotates `file`, keeping `keep` older copies (0: just truncate). Returns how many bytes went into
 * `<file>.1`, or null when there was no file to rotate.
 */
export async function rotateFile(file: string, keep: number): Promise<number | null> {
  let src;
  try {
    src = await open(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    let copied = 0;
    if (keep > 0) {
      // rename() replaces the target, so the oldest copy falls off the end without an unlink.
      for (let n = keep - 1; n >= 1; n--) await renameIfPresent(rotatedName(file, n), rotatedName(file, n + 1));
      copied = await copyToEnd(src, rotatedName(file, 1));
    }
    await src.truncate(0);
    return copied;
  } finally {
    await src.close();
  }
}

/** Copies until a read finds nothing more, i.e. until we have caught up with the writer. */
async function copyToEnd(src: FileHandle, dest: string): Promise<number> {
  const out = await open(dest, 'w');
  try {
    const buf = Buffer.alloc(CHUNK);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) return pos;
      await out.write(buf, 0, bytesRead);
      pos += bytesRead;
    }
  } finally {
    await out.close();
  }
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
