/**
 * Watches the SCF and calls back once per burst of changes. Editors save in several steps
 * (truncate + write, or write a temp file and rename it over), so events are debounced; a
 * rename-over is followed because chokidar watches the path, not the inode.
 */
import { watch, type FSWatcher } from 'chokidar';

export const CONFIG_DEBOUNCE_MS = 150;

export function watchFile(file: string, onChange: () => void, debounceMs = CONFIG_DEBOUNCE_MS): { close(): Promise<void> } {
  let timer: NodeJS.Timeout | null = null;
  const fire = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, debounceMs);
  };
  const watcher: FSWatcher = watch(file, { ignoreInitial: true, atomic: true });
  watcher.on('add', fire).on('change', fire).on('unlink', fire);
  return {
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
