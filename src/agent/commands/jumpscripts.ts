/**
 * Jumpscript texts by content hash (REFERENCE 2.5): fetched from a controller once
 * (`GET /script?hash=`), checked against the hash, and kept under `<state_dir>/jumpscript-cache/`.
 * A file in the cache is trusted because only verified texts are ever written there.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../shared/atomic-write.js';
import { Errors } from '../../shared/errors.js';

export const INTERPRETERS: Readonly<Record<string, string>> = {
  '.py': 'python3',
  '.sh': 'sh',
  '.js': process.execPath,
  '.mjs': process.execPath,
};

export type FetchScript = (hash: string, origin: string | null) => Promise<string>;

export class JumpscriptCache {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly dir: string,
    private readonly fetch: FetchScript,
  ) {}

  /** Path of the script with this hash and extension (`.py`), fetching it if needed. */
  file(hash: string, ext: string, origin: string | null): Promise<string> {
    const file = path.join(this.dir, `${hash}${ext}`);
    if (existsSync(file)) return Promise.resolve(file);
    let pending = this.inFlight.get(file);
    if (!pending) {
      pending = this.download(hash, file, origin).finally(() => this.inFlight.delete(file));
      this.inFlight.set(file, pending);
    }
    return pending;
  }

  private async download(hash: string, file: string, origin: string | null): Promise<string> {
    const text = await this.fetch(hash, origin);
    const actual = createHash('sha256').update(text).digest('hex');
    if (actual !== hash) throw Errors.BAD_RESPONSE(`jumpscript ${hash}: the controller sent a text whose sha256 is ${actual}`);
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(file, text);
    return file;
  }
}
