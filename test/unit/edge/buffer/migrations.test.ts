/**
 * A gateway upgraded in the field keeps its outbox: a database written by the release before
 * versioned migrations (its schema SQL copied here verbatim, the file built by the test) opens,
 * is upgraded in place, and every unsent reading goes out as it was.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NewerSchemaError, SCHEMA_VERSION } from '../../../../edge/buffer/migrations.js';
import { ReadingStore } from '../../../../edge/buffer/reading-store.js';
import { Database } from '../../../../edge/buffer/sqlite.js';
import { silentLogger } from '../../../../shared/log.js';

/** The schema of echolake-edge 0.1.0 (reading-store.ts and history-index.ts before user_version), verbatim. */
const RELEASE_0_1_SCHEMA = `
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
`;

const SEQ_BASE = 1_780_000_000_000_000;

/** A 0.1.0 outbox: 50 readings, the first 20 acknowledged, 21–25 in flight, a cap drop recorded. */
function writeReleaseFile(path: string): string[] {
  const db = new Database(path);
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.exec(RELEASE_0_1_SCHEMA);
  const payloads: string[] = [];
  db.transaction(() => {
    db.prepare('INSERT INTO site (id) VALUES (?)').run('site-a');
    db.prepare('INSERT INTO sequence (site_id, last_seq) VALUES (?, ?)').run('site-a', SEQ_BASE + 50);
    db.prepare('INSERT INTO acked (id, value, in_flight_first, in_flight_last) VALUES (1, ?, ?, ?)').run(SEQ_BASE + 20, SEQ_BASE + 21, SEQ_BASE + 25);
    for (let i = 1; i <= 50; i++) {
      const ts = Date.UTC(2026, 10, 23, 5, 0, i);
      const reading = { v: 1, siteId: 'site-a', seq: SEQ_BASE + i, deviceId: 'dev-1', eoj: '013001', address: '10.0.0.5', ts: new Date(ts).toISOString(), kind: 'poll', properties: { roomTemperature: i }, raw: { bb: i.toString(16).padStart(2, '0') } };
      payloads.push(JSON.stringify(reading));
      db.prepare('INSERT INTO readings (seq, device_id, ts, payload) VALUES (?, ?, ?, ?)').run(reading.seq, reading.deviceId, ts, payloads.at(-1));
    }
    db.prepare('INSERT INTO drops (first_seq, last_seq, count, at, reason) VALUES (?, ?, ?, ?, ?)').run(SEQ_BASE - 10, SEQ_BASE - 1, 10, Date.now(), 'cap');
  })();
  db.close();
  return payloads;
}

const open = (path: string) => ReadingStore.open({ path, siteId: 'site-a', durability: 'FULL', maxBytes: 64 * 1024 * 1024, historyMs: 3_600_000 }, silentLogger());
const userVersion = (path: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.pragma('user_version', { simple: true }));
  } finally {
    db.close();
  }
};

test('a database written by release 0.1.0 is upgraded in place and keeps every unsent reading, its batch in flight and its drops', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'echolake-migrate-')), 'edge.db');
  const payloads = writeReleaseFile(path);
  assert.equal(userVersion(path), 0);
  const store = open(path);
  assert.equal(userVersion(path), SCHEMA_VERSION);
  assert.deepEqual(store.inFlight(), { firstSeq: SEQ_BASE + 21, lastSeq: SEQ_BASE + 25 }, 'the batch in flight goes again exactly');
  const unsent = store.oldestUnsent(1_000, 10_000_000);
  assert.deepEqual(unsent?.payloads, payloads.slice(20), 'the 30 unsent readings, byte for byte');
  const stats = store.stats();
  assert.equal(stats.backlog, 30);
  assert.equal(stats.dropped, 10);
  assert.deepEqual(store.droppedRuns(), [{ firstSeq: SEQ_BASE - 10, lastSeq: SEQ_BASE - 1, count: 10, reason: 'cap' }]);
  assert.match(store.epoch(), /^[0-9a-f]{16}$/, 'the upgraded stream gets its epoch');
  const next = store.append([{ deviceId: 'dev-1', eoj: '013001', address: '10.0.0.5', ts: new Date().toISOString(), kind: 'poll', properties: {}, raw: { '80': '30' } }]);
  assert.equal(next[0]?.seq, SEQ_BASE + 51, 'numbering goes on where it was');
  assert.equal(store.history('dev-1', { limit: 100 }).length, 51);
  store.close();
  const again = open(path);
  assert.equal(again.stats().backlog, 31, 'opening an upgraded file again changes nothing');
  again.close();
});

test('known devices are kept in the database', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'echolake-migrate-')), 'edge.db');
  const store = open(path);
  store.saveKnownDevices([
    { id: 'b', payload: '{"x":2}' },
    { id: 'a', payload: '{"x":1}' },
  ]);
  store.close();
  const again = open(path);
  assert.deepEqual(again.knownDevices(), [
    { id: 'a', payload: '{"x":1}' },
    { id: 'b', payload: '{"x":2}' },
  ]);
  again.saveKnownDevices([{ id: 'c', payload: '{}' }]);
  assert.deepEqual(again.knownDevices().map((d) => d.id), ['c'], 'a save replaces what was kept');
  again.close();
});

test('a database from a newer release is refused with what to do, not opened', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'echolake-migrate-')), 'edge.db');
  open(path).close();
  const db = new Database(path);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => open(path), (error: unknown) => error instanceof NewerSchemaError && /newer echolake-edge/.test(error.message));
});
