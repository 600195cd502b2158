/**
 * The last good site config and what happened when each file was last read. A file that fails to
 * parse or validate changes nothing: supervision goes on with the last good config, and the error
 * is reported in `config_parse_status` (OCS crashed instead: its issue #343).
 */
import { loadSiteConfig } from '../site-config/load.js';
import type { SiteConfig } from '../site-config/types.js';

/** `[ok, unix seconds, message]`, keyed by file; `[SCF]` is the site config file. */
export type ParseStatus = Record<string, [boolean, number, string]>;

export const SCF_KEY = '[SCF]';

export interface ConfigStateOptions {
  file: string;
  host?: string;
  now?: () => number;
  /**
   * Throws what the daemon would refuse at its next start in a config that loads (its own
   * entry's `arguments`), so an edit it could not restart with is refused now, like a bad file.
   */
  check?: (config: SiteConfig) => void;
}

export class ConfigState {
  private good: SiteConfig | null = null;
  private readonly status: ParseStatus = {};
  private readonly now: () => number;

  constructor(private readonly opts: ConfigStateOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Re-reads the SCF. Returns the config to use (the last good one on failure) and the error, if any. */
  reload(): { config: SiteConfig | null; error: string | null } {
    const at = this.now() / 1000;
    try {
      const loaded = loadSiteConfig({ file: this.opts.file, host: this.opts.host });
      this.opts.check?.(loaded);
      this.good = loaded;
      const warnings = this.good.warnings.map((w) => w.message);
      this.status[SCF_KEY] = [true, at, warnings.length ? warnings.join('\n') : 'OK'];
      return { config: this.good, error: null };
    } catch (err) {
      const message = (err as Error).message;
      this.status[SCF_KEY] = [false, at, message];
      return { config: this.good, error: message };
    }
  }

  /** Records how another config file (a compose file) last read, under its own key. */
  setStatus(key: string, ok: boolean, message: string): void {
    this.status[key] = [ok, this.now() / 1000, message];
  }

  get current(): SiteConfig | null {
    return this.good;
  }

  get parseStatus(): ParseStatus {
    return { ...this.status };
  }
}
