/**
 * The edge database's schema, as numbered steps (`PRAGMA user_version` says how many ran). A
 * gateway upgraded in the field opens its old file and the steps it lacks run in one transaction
 * each, so every unsent reading stays; a file from a newer release is refused rather than guessed
 * at. A step, once released, never changes: a change is a new step.
 *
 * Version 0 is the release before versioning (tables made with `CREATE TABLE IF NOT EXISTS`, no
 * user_version): step 1 is that schema, written so that it also accepts such a file as it is.
 */
import type { Database } from './sqlite.js';

interface Migration {
  readonly version: number;
  readonly why: string;
  readonly sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    why: 'the outbox, seq counters, drops and history index as first released',
    sql: `
      CREATE TABLE IF NOT EXISTS site (id TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS sequence (site_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS acked (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL,
        in_flight_first INTEGER,
        in_flight_last INTEGER
      );
      CREATE TABLE IF NOT EXISTS readings (
        seq INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        payload TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS drops (
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        count INTEGER NOT NULL,
        at INTEGER NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('cap', 'corrupt'))
      );
      CREATE TABLE IF NOT EXISTS history_index (
        device_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (device_id, ts, seq)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS history_mark (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_through INTEGER NOT NULL);
      INSERT OR IGNORE INTO history_mark (id, indexed_through) VALUES (1, 0);
    `,
  },
  {
    version: 2,
    why: 'known devices kept across restarts; the seq stream epoch; drops at a full disk or at shutdown',
    sql: `
      CREATE TABLE known_devices (
        id TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      ALTER TABLE site ADD COLUMN epoch TEXT;
      CREATE TABLE drops_v2 (
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        count INTEGER NOT NULL,
        at INTEGER NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('cap', 'corrupt', 'disk-full', 'shutdown'))
      );
      INSERT INTO drops_v2 (first_seq, last_seq, count, at, reason) SELECT first_seq, last_seq, count, at, reason FROM drops;
      DROP TABLE drops;
      ALTER TABLE drops_v2 RENAME TO drops;
    `,
  },
  {
    version: 3,
    why: 'commands from the cloud: every id received (executed at most once), per device what was set over what, results not yet sent',
    sql: `
      CREATE TABLE commands (
        id TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('scheduled', 'executing', 'restore-pending', 'closed')),
        expires_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE TABLE command_devices (
        command_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        state TEXT NOT NULL,
        previous TEXT,
        applied TEXT,
        PRIMARY KEY (command_id, device_id)
      ) WITHOUT ROWID;
      CREATE TABLE command_results (
        id INTEGER PRIMARY KEY,
        payload TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    why: 'the units a command was resolved to when it started, so a restart reports every unit a crash left unreached, even before discovery has found them again',
    sql: `
      ALTER TABLE commands ADD COLUMN targets TEXT;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class NewerSchemaError extends Error {
  constructor(path: string, found: number) {
    super(
      `database ${path} has schema version ${found}, newer than this release's ${SCHEMA_VERSION}: ` +
        'it was written by a newer echolake-edge; install that release again, or move the file aside to start a new outbox',
    );
    this.name = 'NewerSchemaError';
  }
}

/** Brings the database to SCHEMA_VERSION; returns the version it had. */
export function migrate(db: Database, path: string): number {
  const found = Number(db.pragma('user_version', { simple: true }));
  if (found > SCHEMA_VERSION) throw new NewerSchemaError(path, found);
  for (const step of MIGRATIONS.filter((m) => m.version > found)) {
    db.transaction(() => {
      db.exec(step.sql);
      // PRAGMA takes no parameters; the version is our own integer.
      db.pragma(`user_version = ${step.version}`);
    })();
  }
  return found;
}
