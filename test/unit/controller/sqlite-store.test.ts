import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteJobStore } from '../../../src/controller/store/sqlite-store.js';
import { processConformance } from './process-conformance.js';
import { storeConformance, type StoreFixture } from './store-conformance.js';

async function sqliteFile(): Promise<StoreFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'cox-store-'));
  const file = join(dir, 'sub', 'controller.db');
  let store = SqliteJobStore.open(file);
  return {
    store,
    reopen: async () => {
      await store.close();
      return (store = SqliteJobStore.open(file));
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

storeConformance('SQLite file', sqliteFile);
processConformance('SQLite file', sqliteFile);
