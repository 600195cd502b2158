/**
 * The controller's SQLite file: WAL (agents poll while clients read), and the indexes each hot
 * query needs. Partial indexes keep the queue lookups small however much finished history the
 * retention window holds.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

const DDL = `
CREATE TABLE IF NOT EXISTS jobs (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,  -- submission order; never reused
  id       TEXT NOT NULL UNIQUE,
  state    TEXT NOT NULL,                      -- aggregated over its deliveries
  failure  TEXT,                               -- why it went nowhere (no matching agents)
  created  INTEGER NOT NULL,
  finished INTEGER
);
-- The Job as submitted (JSON), written once: apart from the row whose state changes, so a job
-- with large data does not have it rewritten, or read, with each change of state.
CREATE TABLE IF NOT EXISTS job_specs (
  seq  INTEGER PRIMARY KEY,
  spec TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs(finished) WHERE finished IS NOT NULL;

CREATE TABLE IF NOT EXISTS deliveries (
  seq           INTEGER NOT NULL,              -- the job's
  gid           INTEGER NOT NULL,
  nid           INTEGER NOT NULL,
  urgent        INTEGER NOT NULL DEFAULT 0,
  state         TEXT NOT NULL,
  lease         TEXT,
  lease_expires INTEGER,
  offers        INTEGER NOT NULL DEFAULT 0,
  result        TEXT,                          -- the Result, JSON
  PRIMARY KEY (seq, gid, nid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_queue ON deliveries(gid, nid, urgent DESC, seq) WHERE state = 'QUEUED';
CREATE INDEX IF NOT EXISTS deliveries_running ON deliveries(gid, nid) WHERE state = 'RUNNING';
CREATE INDEX IF NOT EXISTS deliveries_leases ON deliveries(lease_expires) WHERE state = 'OFFERED';

-- Queued and offered deliveries per node, kept by triggers so routing to the shortest queue
-- reads one row per node instead of counting a backlog on every submit.
CREATE TABLE IF NOT EXISTS queue_lengths (
  gid INTEGER NOT NULL,
  nid INTEGER NOT NULL,
  n   INTEGER NOT NULL,
  PRIMARY KEY (gid, nid)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS queue_in AFTER INSERT ON deliveries WHEN new.state IN ('QUEUED', 'OFFERED') BEGIN
  INSERT INTO queue_lengths (gid, nid, n) VALUES (new.gid, new.nid, 1) ON CONFLICT (gid, nid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS queue_out AFTER UPDATE OF state ON deliveries
  WHEN old.state IN ('QUEUED', 'OFFERED') AND new.state NOT IN ('QUEUED', 'OFFERED') BEGIN
  UPDATE queue_lengths SET n = n - 1 WHERE gid = old.gid AND nid = old.nid;
END;
CREATE TRIGGER IF NOT EXISTS queue_back AFTER UPDATE OF state ON deliveries
  WHEN old.state NOT IN ('QUEUED', 'OFFERED') AND new.state IN ('QUEUED', 'OFFERED') BEGIN
  INSERT INTO queue_lengths (gid, nid, n) VALUES (new.gid, new.nid, 1) ON CONFLICT (gid, nid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS queue_gone AFTER DELETE ON deliveries WHEN old.state IN ('QUEUED', 'OFFERED') BEGIN
  UPDATE queue_lengths SET n = n - 1 WHERE gid = old.gid AND nid = old.nid;
END;

CREATE TABLE IF NOT EXISTS sessions (
  gid       INTEGER NOT NULL,
  nid       INTEGER NOT NULL,
  roles     TEXT NOT NULL,                     -- JSON array
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (gid, nid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_seen ON sessions(last_seen);

CREATE TABLE IF NOT EXISTS logs (
  job_id   TEXT NOT NULL,
  gid      INTEGER NOT NULL,
  nid      INTEGER NOT NULL,
  mid      INTEGER NOT NULL,
  level    INTEGER NOT NULL,
  message  TEXT NOT NULL,
  epoch    INTEGER NOT NULL,
  received INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_job ON logs(job_id);
CREATE INDEX IF NOT EXISTS logs_by_node ON logs(gid, nid);
CREATE INDEX IF NOT EXISTS logs_received ON logs(received);

CREATE TABLE IF NOT EXISTS stats (
  gid      INTEGER NOT NULL,
  nid      INTEGER NOT NULL,
  batch    TEXT NOT NULL,
  received INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS stats_by_node ON stats(gid, nid);
CREATE INDEX IF NOT EXISTS stats_received ON stats(received);

-- Named processes (REFERENCE 3). id is also the id of the job that carries the start.
CREATE TABLE IF NOT EXISTS processes (
  id        TEXT PRIMARY KEY,
  gid       INTEGER NOT NULL,
  nid       INTEGER NOT NULL,
  name      TEXT NOT NULL,
  spec      TEXT NOT NULL,                     -- the ProcessSpec, JSON
  created   INTEGER NOT NULL,
  exit_code INTEGER,                           -- NULL while it has not finished
  reason    TEXT NOT NULL DEFAULT '',
  ended     INTEGER,
  verdict   INTEGER NOT NULL DEFAULT 0,        -- 1: finished by the controller, without the agent's word
  delivered TEXT                               -- key of the get_finished call that handed it out
) WITHOUT ROWID;
-- A name runs at most once per node; the index makes a second start fail atomically.
CREATE UNIQUE INDEX IF NOT EXISTS processes_running ON processes(gid, nid, name) WHERE exit_code IS NULL;
CREATE INDEX IF NOT EXISTS processes_undelivered ON processes(ended, id) WHERE exit_code IS NOT NULL AND delivered IS NULL;
CREATE INDEX IF NOT EXISTS processes_batch ON processes(delivered) WHERE delivered IS NOT NULL;
CREATE INDEX IF NOT EXISTS processes_delivered ON processes(ended) WHERE delivered IS NOT NULL;
CREATE INDEX IF NOT EXISTS processes_created ON processes(created);

CREATE TABLE IF NOT EXISTS node_cores (
  gid      INTEGER NOT NULL,
  nid      INTEGER NOT NULL,
  cores    TEXT NOT NULL,                      -- JSON: hardware-thread ids per core
  reported INTEGER NOT NULL,
  PRIMARY KEY (gid, nid)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS scripts (
  hash TEXT PRIMARY KEY,
  text TEXT NOT NULL,
  used INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS scripts_used ON scripts(used);
`;

/** Opens (creating if needed) the database at `path`; `:memory:` for tests. */
export function openDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // In WAL mode NORMAL loses nothing when the process dies (SIGKILL included); only a power cut
  // can drop the last transactions.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(DDL);
  moveSpecsOut(db);
  return db;
}

/** A file from before job_specs kept each spec in its jobs row: moved out once, at open. */
function moveSpecsOut(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('jobs')").all();
  if (!columns.some((c) => c.name === 'spec')) return;
  db.transaction(() => {
    db.exec('INSERT OR IGNORE INTO job_specs (seq, spec) SELECT seq, spec FROM jobs; ALTER TABLE jobs DROP COLUMN spec;');
  }).immediate();
}
