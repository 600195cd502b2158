import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteJobStore } from '../../../src/controller/store/sqlite-store.js';
import { processConformance } from './process-conformance.js';
import { mkJob, storeConformance, type StoreFixture } from './store-conformance.js';

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

describe('a controller file from before job_specs', () => {
  it('has its specs moved out of the jobs rows at open, and serves its queued jobs as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cox-store-'));
    const file = join(dir, 'controller.db');
    try {
      const old = new Database(file);
      old.exec(`CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, spec TEXT NOT NULL, state TEXT NOT NULL,
        failure TEXT, created INTEGER NOT NULL, finished INTEGER);
        CREATE INDEX jobs_by_state ON jobs(state, seq);
        CREATE INDEX jobs_finished ON jobs(finished) WHERE finished IS NOT NULL;
        CREATE TABLE deliveries (seq INTEGER NOT NULL, gid INTEGER NOT NULL, nid INTEGER NOT NULL, urgent INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL, lease TEXT, lease_expires INTEGER, offers INTEGER NOT NULL DEFAULT 0, result TEXT, PRIMARY KEY (seq, gid, nid)) WITHOUT ROWID;`);
      old.prepare("INSERT INTO jobs (id, spec, state, created) VALUES ('kept', ?, 'QUEUED', 1)").run(JSON.stringify(mkJob('kept', { data: 'stdin' })));
      old.prepare("INSERT INTO deliveries (seq, gid, nid, state) VALUES (1, 1, 10, 'QUEUED')").run();
      old.close();

      const store = SqliteJobStore.open(file);
      expect((await store.get('kept'))!.job).toEqual(mkJob('kept', { data: 'stdin' }));
      expect(await store.offerNext({ gid: 1, nid: 10 }, () => 'l', 2, 1)).toMatchObject([{ id: 'kept', data: 'stdin', lease: 'l' }]);
      await store.close();
      const after = new Database(file, { readonly: true });
      expect(after.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('jobs')").all().map((c) => c.name)).not.toContain('spec');
      after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
