import type { Database } from './sqlite.js';

/** Readings indexed per step, and how many may wait unindexed before a step indexes them anyway. */
const INDEX_BATCH = 5_000;
/** Readings wait this long before they are indexed, so each device's entries land in its index page together. */
const INDEX_LAG_MS = 10 * 60_000;

export interface HistoryQuery {
  /** Readings received at or after this instant, oldest first; without it, the newest `limit`. */
  since?: Date | undefined;
  limit: number;
}

interface Row {
  seq: number;
  ts: number;
  payload: string;
}

/**
 * The local history's per-device index, written late and in bulk. Indexing each reading as it
 * is committed dirtied one index page per device per commit, 8.9 KB written per reading against
 * 1.5 KB without an index: years off an SD card. Here readings are indexed about ten minutes at a
 * time (or as soon as 5,000 wait), so a device's entries of those minutes share one page write;
 * a query reads the index and scans the short unindexed tail of the table.
 *
 * Entries of readings pruned past the history window are left behind until they age out too
 * (queries join on the readings table, so they never show); an entry is about 70 bytes. Readings
 * the store drops to stay under its cap are `forget`-ed with their entries.
 */
export class HistoryIndex {
  private readonly statements;

  /** Its tables come with the store's schema (migrations.ts). */
  constructor(private readonly db: Database) {
    this.statements = prepare(db);
  }

  /**
   * One bounded step: once the oldest unindexed reading is `INDEX_LAG_MS` old (or `INDEX_BATCH`
   * wait), indexes the whole unindexed tail, up to `INDEX_BATCH` readings, and drops entries past
   * the history window (acknowledged ones only: unsent readings stay visible however old).
   * Run every minute, it thus indexes about ten minutes of readings at a time. True when
   * another step has work now.
   */
  step(now: number, historyMs: number, ackedThrough: number): boolean {
    const mark = this.indexedThrough();
    const tail = this.statements.tail.get(mark, INDEX_BATCH);
    if (tail === undefined || tail.count === 0) return false;
    const full = tail.count === INDEX_BATCH;
    if (!full && tail.oldest_ts > now - INDEX_LAG_MS) return false;
    this.db.transaction(() => {
      this.statements.indexTail.run(mark, tail.last_seq);
      this.statements.setMark.run(tail.last_seq);
      for (const { id } of this.statements.devices.all()) this.statements.pruneDevice.run(id, now - historyMs, ackedThrough);
    })();
    return full;
  }

  /**
   * Removes the entries of the readings with seqs in the run, before those readings are deleted:
   * one bounded range delete per device, its times taken from the readings themselves.
   */
  forget(firstSeq: number, lastSeq: number): void {
    const indexedLast = Math.min(lastSeq, this.indexedThrough());
    if (indexedLast < firstSeq) return;
    for (const device of this.statements.devicesInRun.all(firstSeq, indexedLast)) {
      this.statements.forgetEntries.run(device.id, device.oldest, device.newest, firstSeq, indexedLast);
    }
  }

  /** A device's readings as stored JSON, oldest first. */
  query(deviceId: string, query: HistoryQuery): string[] {
    const mark = this.indexedThrough();
    const since = query.since?.getTime();
    const tail = this.statements.tailOfDevice.all(mark, deviceId).filter((row) => since === undefined || row.ts >= since);
    const indexed =
      since === undefined
        ? this.statements.newest.all(deviceId, query.limit)
        : this.statements.since.all(deviceId, since, query.limit);
    const rows = [...indexed, ...tail].sort((a, b) => a.ts - b.ts || a.seq - b.seq);
    const chosen = since === undefined ? rows.slice(-query.limit) : rows.slice(0, query.limit);
    return chosen.map((row) => row.payload);
  }

  private indexedThrough(): number {
    return this.statements.mark.get()?.indexed_through ?? 0;
  }
}

function prepare(db: Database) {
  return {
    mark: db.prepare<[], { indexed_through: number }>('SELECT indexed_through FROM history_mark WHERE id = 1'),
    setMark: db.prepare<[number]>('UPDATE history_mark SET indexed_through = ? WHERE id = 1'),
    tail: db.prepare<[number, number], { count: number; last_seq: number; oldest_ts: number }>(
      'SELECT count(*) AS count, max(seq) AS last_seq, min(ts) AS oldest_ts FROM (SELECT seq, ts FROM readings WHERE seq > ? ORDER BY seq LIMIT ?)',
    ),
    indexTail: db.prepare<[number, number]>(
      'INSERT OR IGNORE INTO history_index (device_id, ts, seq) SELECT device_id, ts, seq FROM readings WHERE seq > ? AND seq <= ?',
    ),
    // Each distinct device by a skip-scan of the index: one lookup per device, not a full scan.
    devices: db.prepare<[], { id: string }>(`
      WITH RECURSIVE device(id) AS (
        SELECT min(device_id) FROM history_index
        UNION ALL
        SELECT (SELECT min(device_id) FROM history_index WHERE device_id > device.id) FROM device WHERE device.id IS NOT NULL
      )
      SELECT id FROM device WHERE id IS NOT NULL`),
    devicesInRun: db.prepare<[number, number], { id: string; oldest: number; newest: number }>(
      'SELECT device_id AS id, min(ts) AS oldest, max(ts) AS newest FROM readings WHERE seq BETWEEN ? AND ? GROUP BY device_id',
    ),
    forgetEntries: db.prepare<[string, number, number, number, number]>(
      'DELETE FROM history_index WHERE device_id = ? AND ts BETWEEN ? AND ? AND seq BETWEEN ? AND ?',
    ),
    pruneDevice: db.prepare<[string, number, number]>('DELETE FROM history_index WHERE device_id = ? AND ts < ? AND seq <= ?'),
    tailOfDevice: db.prepare<[number, string], Row>('SELECT seq, ts, payload FROM readings WHERE seq > ? AND device_id = ? ORDER BY seq'),
    newest: db.prepare<[string, number], Row>(
      'SELECT r.seq, r.ts, r.payload FROM history_index h JOIN readings r ON r.seq = h.seq WHERE h.device_id = ? ORDER BY h.ts DESC, h.seq DESC LIMIT ?',
    ),
    since: db.prepare<[string, number, number], Row>(
      'SELECT r.seq, r.ts, r.payload FROM history_index h JOIN readings r ON r.seq = h.seq WHERE h.device_id = ? AND h.ts >= ? ORDER BY h.ts, h.seq LIMIT ?',
    ),
  };
}
