import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { HistoryIndex, type HistoryQuery } from './history-index.js';
import { SCHEMA_VERSION, migrate } from './migrations.js';
import { Database } from './sqlite.js';
import type { Logger } from '../../shared/log.js';
import { READING_SCHEMA_VERSION, type AnyReading, type Numbered, type Recorded } from '../../shared/reading.js';

export type Durability = 'NORMAL' | 'FULL';

export interface ReadingStoreOptions {
  /** Path of the SQLite file; its folder must exist. */
  path: string;
  siteId: string;
  /** SQLite `synchronous` in WAL mode: NORMAL may roll back the last commits on power loss, FULL fsyncs each one. */
  durability: Durability;
  /** The database never grows past this; near it the oldest readings go, history first. */
  maxBytes: number;
  /** How long acknowledged readings stay for the local API. */
  historyMs: number;
}

/** The oldest unacknowledged readings, already serialised, in seq order. */
export interface PendingReadings {
  firstSeq: number;
  lastSeq: number;
  /** One JSON document per reading, exactly as stored. */
  payloads: string[];
  bytes: number;
  /** When the gateway received the oldest of them (its `ts`), epoch ms. */
  oldestAt: number;
  /** The count or byte bound was reached: the batch will not grow by waiting. */
  full: boolean;
}

export interface StoreStats {
  /** Readings made and not yet acknowledged by the cloud. */
  backlog: number;
  oldestUnsentAt: number | undefined;
  /** Unsent readings given up since this database was created: at the byte cap, or with the corrupt file it replaced. */
  dropped: number;
  /** Live bytes: pages in use, not the file size. */
  databaseBytes: number;
  lastSeq: number;
  ackedThrough: number;
}

/** What one bounded housekeeping step did. */
export interface MaintenanceStep {
  pruned: number;
  /** There is more to prune or hand back: run another step soon rather than in a minute. */
  more: boolean;
}

export interface SeqRange {
  firstSeq: number;
  lastSeq: number;
}

/**
 * Why unsent readings were given up: the byte cap, a corrupt database file that took them with it
 * when it was moved aside (counted from what could still be read of it), a full disk, or a
 * shutdown while they still waited for a commit the disk refused.
 */
export type DropReason = 'cap' | 'corrupt' | 'disk-full' | 'shutdown';

/** A run of unsent readings given up: the only way a seq can go missing. */
export interface DroppedRun {
  firstSeq: number;
  lastSeq: number;
  count: number;
  reason: DropReason;
}

/** Far above any site's devices; bounds what one save writes. */
const MAX_KNOWN_DEVICES = 4_096;

/** Left free on the file system for the WAL, its checkpoints and the journal. */
const DISK_RESERVE_BYTES = 16 * 1024 * 1024;

/** Rows per housekeeping step: a few tens of ms of DELETE on a Pi. */
const PRUNE_CHUNK = 5_000;
/** Freed pages handed back per housekeeping step, and how many may lie free before it bothers. */
const VACUUM_PAGES = 2_048;
const VACUUM_MIN_FREE_PAGES = 256;

/** SQLite's page cache per connection, KiB. */
const PAGE_CACHE_KIB = 2_000;

/** Start shrinking at this share of the cap, down to the lower mark, so a drop happens in bulk, rarely. */
const HIGH_WATER = 0.9;
const LOW_WATER = 0.8;
/**
 * Rows per round when making room: bounded work per transaction, and small beside what a small
 * cap holds (2 MiB holds ~3,000 readings), so the rounds stop near the lower mark instead of one
 * round taking the whole backlog.
 */
const DROP_CHUNK = 500;
/** A reading's JSON is stored once, with its row, index entry and page slack: a generous bound of the file bytes per JSON byte. */
const STORED_BYTES_PER_JSON_BYTE = 2;

/**
 * The edge's readings in SQLite (WAL): the store-and-forward outbox and a short local history in
 * one table. A reading exists once its transaction committed. It counts as sent only when the
 * cloud acknowledged its seq end to end (`ackedThrough`); it leaves the table when it is both
 * acknowledged and older than the history window, or when the byte cap forces it out — which is
 * counted and logged with its seqs.
 *
 * Seqs come from a persisted counter, never from the rowid. A new database starts its counter at
 * the current time in microseconds, so a gateway whose database was lost or replaced keeps
 * numbering above every seq it ever sent and the cloud never mistakes new readings for old copies.
 */
export class ReadingStore {
  private readonly db: Database;
  private readonly pageSize: number;
  private readonly statements;
  private readonly historyIndex: HistoryIndex;
  private readonly appendAll: (observations: Recorded[]) => AnyReading[];
  private readonly epoch_: string;
  private unhealthy: string | undefined;

  private constructor(
    private readonly options: ReadingStoreOptions,
    private readonly log: Logger,
  ) {
    const opened = openChecked(options.path, log);
    this.db = opened.db;
    this.configure(opened.replaced?.lastWriteMs ?? 0);
    this.pageSize = Number(this.db.pragma('page_size', { simple: true }));
    this.statements = prepareStatements(this.db);
    if (opened.replaced?.lost !== undefined) this.recordLostWithCorruptFile(opened.replaced.lost);
    this.historyIndex = new HistoryIndex(this.db);
    this.epoch_ = this.readEpoch();
    this.appendAll = this.db.transaction((observations: Recorded[]) => this.insert(observations));
  }

  static open(options: ReadingStoreOptions, log: Logger): ReadingStore {
    return new ReadingStore(options, log);
  }

  /**
   * The open database, for rooms that keep their own tables in the same file (the command
   * executor): one file, one WAL, one set of migrations, closed here.
   */
  database(): Database {
    return this.db;
  }

  /** Numbers and stores observations and device events in one transaction (one commit, not one per row). */
  append<T extends Recorded>(observations: T[]): Array<T & Numbered> {
    if (observations.length === 0) return [];
    try {
      this.makeRoom(0);
      const readings = this.commitWithinCap(observations) as unknown as Array<T & Numbered>;
      this.unhealthy = undefined;
      this.writeCounters();
      return readings;
    } catch (err) {
      this.unhealthy = (err as Error).message;
      throw err;
    }
  }

  /**
   * A commit larger than the room left under the cap fails with SQLITE_FULL and changes nothing;
   * then room is made for it and it goes again, once, so one big commit can never wedge the store.
   */
  private commitWithinCap(observations: Recorded[]): AnyReading[] {
    try {
      return this.appendAll(observations);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_FULL') throw err;
      const jsonBytes = observations.reduce((sum, observation) => sum + JSON.stringify(observation).length, 0);
      this.makeRoom(STORED_BYTES_PER_JSON_BYTE * jsonBytes);
      return this.appendAll(observations);
    }
  }

  /** The oldest readings not yet acknowledged, bounded by count and bytes (always at least one if any). */
  oldestUnsent(maxCount: number, maxBytes: number): PendingReadings | undefined {
    const rows = this.statements.unsent.all(this.ackedThrough(), maxCount + 1);
    const first = rows[0];
    if (first === undefined) return undefined;
    const payloads: string[] = [];
    let bytes = 0;
    let lastSeq = first.seq;
    let cutByBytes = false;
    for (const row of rows.slice(0, maxCount)) {
      const size = Buffer.byteLength(row.payload);
      cutByBytes = payloads.length > 0 && bytes + size > maxBytes;
      if (cutByBytes) break;
      payloads.push(row.payload);
      bytes += size;
      lastSeq = row.seq;
    }
    return { firstSeq: first.seq, lastSeq, payloads, bytes, oldestAt: first.ts, full: cutByBytes || payloads.length === maxCount };
  }

  /**
   * The batch that was sent and not yet acknowledged, if any. It survives a restart, so the
   * gateway sends exactly the same batch again: a copy in Kafka is then always a whole batch.
   */
  inFlight(): SeqRange | undefined {
    const row = this.statements.inFlight.get();
    return row?.first === null || row?.last === null || row === undefined ? undefined : { firstSeq: row.first, lastSeq: row.last };
  }

  /** Records the batch about to be sent; until its ack, `inFlight` returns it. */
  markInFlight(range: SeqRange): void {
    this.statements.setInFlight.run(range.firstSeq, range.lastSeq);
  }

  /** The stored readings of a range, in seq order: a batch fixed already, so `full`. */
  readRange(range: SeqRange): PendingReadings | undefined {
    const rows = this.statements.range.all(range.firstSeq, range.lastSeq);
    const first = rows[0];
    const last = rows[rows.length - 1];
    if (first === undefined || last === undefined) return undefined;
    const payloads = rows.map((row) => row.payload);
    const bytes = payloads.reduce((sum, payload) => sum + Buffer.byteLength(payload), 0);
    return { firstSeq: first.seq, lastSeq: last.seq, payloads, bytes, oldestAt: first.ts, full: true };
  }

  /**
   * The cloud acknowledged the batch in flight: every reading with `seq <= lastSeq` is in the
   * cloud now, and the next batch is chosen afresh. Returns how many readings that newly covers.
   */
  acknowledge(lastSeq: number): number {
    const before = this.ackedThrough();
    if (lastSeq <= before) {
      this.statements.clearInFlight.run();
      return 0;
    }
    const covered = this.db.transaction(() => {
      const n = this.statements.countRange.get(before, lastSeq)?.n ?? 0;
      this.statements.setAckedThrough.run(lastSeq);
      this.statements.clearInFlight.run();
      return n;
    })();
    this.writeCounters();
    return covered;
  }

  /**
   * The seq counters in a small file beside the database, rewritten after each commit and ack (no
   * fsync: it is a second witness, not the record). When the database is damaged past reading its
   * own counters (a truncated file, a zeroed header), this file still says which seqs were unsent,
   * so their loss is counted as a seq range instead of "unknown".
   */
  private writeCounters(): void {
    const stats = this.stats();
    const counters: SeqCounters = { siteId: this.options.siteId, epoch: this.epoch_, lastSeq: stats.lastSeq, ackedThrough: stats.ackedThrough, droppedUnsent: stats.lastSeq - stats.ackedThrough - stats.backlog };
    const file = countersPath(this.options.path);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(counters));
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.log.warn({ path: file, err }, 'seq counters side file not written; a damaged database would then lose an uncounted range');
    }
  }

  /** A device's readings from the local history, oldest first: those after `since` (by `ts`), or else the newest `limit`. */
  history(deviceId: string, query: HistoryQuery): AnyReading[] {
    return this.historyIndex.query(deviceId, query).map((payload) => JSON.parse(payload) as AnyReading);
  }

  /**
   * Cheap enough for every scrape: the backlog is counted from the seq counters, not the rows
   * (a count(*) over a million unsent rows took 200–450 ms). Seqs are handed out without gaps,
   * and a row above the acknowledged mark leaves only in a counted drop.
   */
  stats(): StoreStats {
    const ackedThrough = this.ackedThrough();
    const lastSeq = this.statements.lastSeq.get(this.options.siteId)?.last_seq ?? 0;
    const droppedUnsent = this.statements.droppedAbove.get(ackedThrough)?.n ?? 0;
    return {
      backlog: lastSeq - ackedThrough - droppedUnsent,
      oldestUnsentAt: this.statements.oldestUnsent.get(ackedThrough)?.ts,
      dropped: this.statements.droppedTotal.get()?.n ?? 0,
      databaseBytes: this.liveBytes(),
      lastSeq,
      ackedThrough,
    };
  }

  /** What the uplink's status message reports. */
  backlog(): Pick<StoreStats, 'backlog' | 'oldestUnsentAt'> {
    const { backlog, oldestUnsentAt } = this.stats();
    return { backlog, oldestUnsentAt };
  }

  /** Why the last commit failed, while it keeps failing; undefined when healthy. */
  health(): string | undefined {
    return this.unhealthy;
  }

  /** Runs of readings given up, oldest first. */
  /** Readings given up over the life of the database, by reason (one row per reason: cheap for every status request). */
  droppedByReason(): Partial<Record<DropReason, number>> {
    return Object.fromEntries(this.statements.droppedByReason.all().map((row) => [row.reason, row.n]));
  }

  droppedRuns(): DroppedRun[] {
    return this.statements.droppedRuns.all().map((row) => ({ firstSeq: row.first_seq, lastSeq: row.last_seq, count: row.count, reason: row.reason }));
  }

  /**
   * One bounded step of housekeeping: at most `PRUNE_CHUNK` acknowledged readings past the history
   * window go, the history index catches up in one bounded batch, then at most `VACUUM_PAGES`
   * freed pages are handed back to the filesystem (never a full VACUUM). Bounded because it runs
   * on the event loop: after a long outage had drained, one DELETE of a day's history blocked it
   * for seconds, close to the systemd watchdog on a Pi. `more` says another step has work now.
   */
  maintain(now = Date.now()): MaintenanceStep {
    const pruned = this.pruneHistoryChunk(now);
    const moreToIndex = this.historyIndex.step(now, this.options.historyMs, this.ackedThrough());
    const free = Number(this.db.pragma('freelist_count', { simple: true }));
    if (free > VACUUM_MIN_FREE_PAGES) {
      this.db.pragma(`incremental_vacuum(${VACUUM_PAGES})`);
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    }
    if (pruned > 0) this.log.debug({ pruned, freePages: free }, 'history pruned');
    return { pruned, more: pruned === PRUNE_CHUNK || moreToIndex || free - VACUUM_PAGES > VACUUM_MIN_FREE_PAGES };
  }

  /**
   * Replaces what the store keeps of the devices the edge knows (opaque JSON by id: the buffer
   * knows nothing of ECHONET), in one transaction; at most MAX_KNOWN_DEVICES.
   */
  saveKnownDevices(entries: ReadonlyArray<{ readonly id: string; readonly payload: string }>): void {
    const now = Date.now();
    this.db.transaction(() => {
      this.statements.clearKnownDevices.run();
      for (const { id, payload } of entries.slice(0, MAX_KNOWN_DEVICES)) this.statements.saveKnownDevice.run(id, payload, now);
    })();
  }

  knownDevices(): Array<{ id: string; payload: string }> {
    return this.statements.knownDevices.all();
  }

  /** The seq stream's epoch: 16 random hex digits made with this database, new with every new database. */
  epoch(): string {
    return this.epoch_;
  }

  private readEpoch(): string {
    const epoch = this.statements.epoch.get()?.epoch;
    if (epoch === undefined || epoch === null) throw new Error('the reading store has no epoch');
    return epoch;
  }

  close(): void {
    this.db.close();
  }

  private ackedThrough(): number {
    return this.statements.ackedThrough.get()?.value ?? 0;
  }

  private insert(observations: Recorded[]): AnyReading[] {
    const { siteId } = this.options;
    const epoch = this.epoch_;
    const advanced = this.statements.advanceSequence.get(observations.length, siteId);
    if (advanced === undefined) throw new Error(`sequence row for site ${siteId} is missing`);
    const firstSeq = advanced.last_seq - observations.length + 1;
    return observations.map((observation, index) => {
      const reading: AnyReading = { v: READING_SCHEMA_VERSION, siteId, seq: firstSeq + index, epoch, ...observation };
      this.statements.insert.run(reading.seq, reading.deviceId, Date.parse(reading.ts), JSON.stringify(reading));
      return reading;
    });
  }

  /**
   * Deletes the oldest acknowledged readings, in seq order, up to the first one still inside the
   * window. Seq order is nearly time order; a reading out of order only stays a little longer. A
   * reading stamped in the future (the clock was stepped back since) does not hold the rest up.
   */
  private pruneHistoryChunk(now: number): number {
    const cutoffMs = now - this.options.historyMs;
    let through: number | undefined;
    for (const [seq, ts] of this.statements.oldestAcked.iterate(this.ackedThrough(), PRUNE_CHUNK) as Iterable<[number, number]>) {
      if (ts >= cutoffMs && ts <= now) break;
      through = seq;
    }
    return through === undefined ? 0 : this.statements.deleteThrough.run(through).changes;
  }

  private liveBytes(): number {
    const pages = Number(this.db.pragma('page_count', { simple: true })) - Number(this.db.pragma('freelist_count', { simple: true }));
    return pages * this.pageSize;
  }

  /**
   * The cap, lowered to what the file system can still give (less a reserve for the WAL and the
   * journal): the database stops growing before the disk is full, rather than failing at it.
   */
  private effectiveMaxBytes(): number {
    const { maxBytes, path } = this.options;
    let free: number;
    try {
      const fs = statfsSync(dirname(path));
      free = fs.bavail * fs.bsize;
    } catch {
      return maxBytes;
    }
    return Math.min(maxBytes, Math.max(this.liveBytes() + free - DISK_RESERVE_BYTES, 0));
  }

  /**
   * Keeps the database under its cap, with room for `incomingBytes` more: acknowledged history
   * goes first, then the oldest unsent readings.
   */
  private makeRoom(incomingBytes: number): void {
    const maxBytes = this.effectiveMaxBytes();
    if (this.liveBytes() + incomingBytes < maxBytes * HIGH_WATER) return;
    while (this.liveBytes() + incomingBytes > maxBytes * LOW_WATER) {
      const removed = this.dropOldestChunk();
      if (removed === 0) break;
    }
  }

  /**
   * Acknowledged history goes first. Of the unsent readings the batch in flight is spared: it is
   * likely in Kafka already, and dropping part of it would make its resend differ from the copy
   * the cloud has. A dropped reading takes its history index entry with it: during a long outage
   * nothing else would remove the entries of readings that were never acknowledged, and they
   * would crowd the readings out of the capped file.
   */
  private dropOldestChunk(): number {
    const ackedThrough = this.ackedThrough();
    const history = this.statements.oldestRun.get(0, ackedThrough, DROP_CHUNK);
    if (history !== undefined && history.count > 0) {
      return this.db.transaction(() => this.deleteRun(history))();
    }
    const spareThrough = Math.max(ackedThrough, this.inFlight()?.lastSeq ?? 0);
    return this.db.transaction(() => {
      const run = this.statements.oldestRun.get(spareThrough, Number.MAX_SAFE_INTEGER, DROP_CHUNK);
      if (run === undefined || run.count === 0) return 0;
      this.deleteRun(run);
      this.statements.recordDrop.run(run.first_seq, run.last_seq, run.count, Date.now(), 'cap');
      this.log.error(
        { siteId: this.options.siteId, firstSeq: run.first_seq, lastSeq: run.last_seq, dropped: run.count, maxBytes: this.options.maxBytes },
        'database at its byte cap: oldest unsent readings dropped',
      );
      return run.count;
    })();
  }

  private deleteRun(run: { first_seq: number; last_seq: number; count: number }): number {
    this.historyIndex.forget(run.first_seq, run.last_seq);
    this.statements.deleteRange.run(run.first_seq, run.last_seq);
    return run.count;
  }

  /** The unsent readings of the corrupt file this one replaced, as far as it could still tell: counted like a drop. */
  private recordLostWithCorruptFile(lost: DroppedRun): void {
    this.statements.recordDrop.run(lost.firstSeq, lost.lastSeq, lost.count, Date.now(), 'corrupt');
  }

  /** `seqFloorMs`: a time the new database must number above (when it replaces a corrupt one). */
  private configure(seqFloorMs: number): void {
    // auto_vacuum only takes effect before the first table exists.
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${this.options.durability}`);
    // The WAL is reset after checkpoints; this bounds what it keeps on disk in between.
    this.db.pragma(`journal_size_limit = ${8 * 1024 * 1024}`);
    // better-sqlite3's build sets a 16 MB page cache; the outbox reads and writes at its ends, and
    // 2 MB (SQLite's own default) kept the drain as fast with 10+ MB less RSS on a small board.
    this.db.pragma(`cache_size = ${-PAGE_CACHE_KIB}`);
    const from = migrate(this.db, this.options.path);
    if (from < SCHEMA_VERSION) this.log.info({ path: this.options.path, from, to: SCHEMA_VERSION }, 'reading store schema upgraded');
    this.claimForSite(seqFloorMs);
    this.applyHardCap();
  }

  /** SQLite itself refuses to grow past the cap (SQLITE_FULL), whatever happens between two checks. */
  private applyHardCap(): void {
    const pageSize = Number(this.db.pragma('page_size', { simple: true }));
    this.db.pragma(`max_page_count = ${Math.max(64, Math.floor(this.options.maxBytes / pageSize))}`);
  }

  /** A database numbers one site's readings; reusing it for another site would mix two seq spaces. */
  private claimForSite(seqFloorMs: number): void {
    const { siteId, path } = this.options;
    const owner = this.db.prepare<[], { id: string }>('SELECT id FROM site').get();
    if (owner === undefined) {
      // A Pi has no clock of its own: should it boot with the time behind, the last write to the
      // file this one replaces still bounds every seq that file ever handed out. The floor is
      // rounded up a whole millisecond: file times are floats and can read a hair early.
      const firstSeqBase = Math.max(Date.now(), Math.ceil(seqFloorMs) + 1) * 1000;
      this.db.transaction(() => {
        this.db.prepare('INSERT INTO site (id, epoch) VALUES (?, ?)').run(siteId, newEpoch());
        this.db.prepare('INSERT INTO sequence (site_id, last_seq) VALUES (?, ?)').run(siteId, firstSeqBase);
        this.db.prepare('INSERT INTO acked (id, value) VALUES (1, ?)').run(firstSeqBase);
      })();
      this.log.info({ siteId, path, firstSeq: firstSeqBase + 1 }, 'reading store created');
      return;
    }
    if (owner.id !== siteId) {
      throw new Error(
        `database ${path} belongs to site ${owner.id}, but siteId is ${siteId}: ` +
          'fix siteId in the configuration, or move the file aside to start a new site',
      );
    }
    // A file from before epochs: its seq stream goes on, under an epoch of its own from now on.
    this.db.prepare('UPDATE site SET epoch = ? WHERE epoch IS NULL').run(newEpoch());
  }
}

function prepareStatements(db: Database) {
  return {
    insert: db.prepare<[number, string, number, string]>('INSERT INTO readings (seq, device_id, ts, payload) VALUES (?, ?, ?, ?)'),
    advanceSequence: db.prepare<[number, string], { last_seq: number }>('UPDATE sequence SET last_seq = last_seq + ? WHERE site_id = ? RETURNING last_seq'),
    lastSeq: db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM sequence WHERE site_id = ?'),
    ackedThrough: db.prepare<[], { value: number }>('SELECT value FROM acked WHERE id = 1'),
    setAckedThrough: db.prepare<[number]>('UPDATE acked SET value = max(value, ?) WHERE id = 1'),
    inFlight: db.prepare<[], { first: number | null; last: number | null }>('SELECT in_flight_first AS first, in_flight_last AS last FROM acked WHERE id = 1'),
    setInFlight: db.prepare<[number, number]>('UPDATE acked SET in_flight_first = ?, in_flight_last = ? WHERE id = 1'),
    clearInFlight: db.prepare<[]>('UPDATE acked SET in_flight_first = NULL, in_flight_last = NULL WHERE id = 1'),
    range: db.prepare<[number, number], { seq: number; payload: string; ts: number }>('SELECT seq, payload, ts FROM readings WHERE seq BETWEEN ? AND ? ORDER BY seq'),
    unsent: db.prepare<[number, number], { seq: number; payload: string; ts: number }>(
      'SELECT seq, payload, ts FROM readings WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    oldestUnsent: db.prepare<[number], { ts: number }>('SELECT ts FROM readings WHERE seq > ? ORDER BY seq LIMIT 1'),
    countRange: db.prepare<[number, number], { n: number }>('SELECT count(*) AS n FROM readings WHERE seq > ? AND seq <= ?'),
    oldestAcked: db.prepare<[number, number]>('SELECT seq, ts FROM readings WHERE seq <= ? ORDER BY seq LIMIT ?').raw(),
    deleteThrough: db.prepare<[number]>('DELETE FROM readings WHERE seq <= ?'),
    /** The oldest readings with `after < seq <= through`, at most the given count. */
    oldestRun: db.prepare<[number, number, number], { first_seq: number; last_seq: number; count: number }>(
      'SELECT min(seq) AS first_seq, max(seq) AS last_seq, count(*) AS count FROM (SELECT seq FROM readings WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?)',
    ),
    deleteRange: db.prepare<[number, number]>('DELETE FROM readings WHERE seq BETWEEN ? AND ?'),
    saveKnownDevice: db.prepare<[string, string, number]>('INSERT INTO known_devices (id, payload, updated_at) VALUES (?, ?, ?)'),
    clearKnownDevices: db.prepare<[]>('DELETE FROM known_devices'),
    knownDevices: db.prepare<[], { id: string; payload: string }>('SELECT id, payload FROM known_devices ORDER BY id'),
    epoch: db.prepare<[], { epoch: string | null }>('SELECT epoch FROM site'),
    recordDrop: db.prepare<[number, number, number, number, DropReason]>('INSERT INTO drops (first_seq, last_seq, count, at, reason) VALUES (?, ?, ?, ?, ?)'),
    droppedAbove: db.prepare<[number], { n: number }>('SELECT coalesce(sum(count), 0) AS n FROM drops WHERE first_seq > ?'),
    droppedTotal: db.prepare<[], { n: number }>('SELECT coalesce(sum(count), 0) AS n FROM drops'),
    droppedByReason: db.prepare<[], { reason: DropReason; n: number }>('SELECT reason, sum(count) AS n FROM drops GROUP BY reason'),
    droppedRuns: db.prepare<[], { first_seq: number; last_seq: number; count: number; reason: DropReason }>(
      'SELECT first_seq, last_seq, count, reason FROM drops ORDER BY first_seq',
    ),
  };
}

/** 64 random bits as 16 lowercase hex digits. */
function newEpoch(): string {
  return randomBytes(8).toString('hex');
}

interface SeqCounters {
  siteId: string;
  epoch: string;
  lastSeq: number;
  ackedThrough: number;
  /** Unsent readings already counted as dropped (at the cap). */
  droppedUnsent: number;
}

const countersPath = (path: string): string => `${path}.seq`;

/** The seq counters the side file last recorded, if it is there and whole. */
function sideCounters(path: string): Pick<SeqCounters, 'lastSeq' | 'ackedThrough' | 'droppedUnsent'> | undefined {
  try {
    const { lastSeq, ackedThrough, droppedUnsent } = JSON.parse(readFileSync(countersPath(path), 'utf8')) as Partial<SeqCounters>;
    if (!Number.isSafeInteger(lastSeq) || !Number.isSafeInteger(ackedThrough) || !Number.isSafeInteger(droppedUnsent)) return undefined;
    return { lastSeq: lastSeq as number, ackedThrough: ackedThrough as number, droppedUnsent: droppedUnsent as number };
  } catch {
    return undefined;
  }
}

/** The unsent range the side file last recorded, if it is there, whole and not empty. */
function unsentFromCounters(path: string): DroppedRun | undefined {
  const counters = sideCounters(path);
  if (counters === undefined || counters.lastSeq <= counters.ackedThrough) return undefined;
  const { lastSeq, ackedThrough, droppedUnsent } = counters;
  return { firstSeq: ackedThrough + 1, lastSeq, count: lastSeq - ackedThrough - droppedUnsent, reason: 'corrupt' };
}

/** The corrupt file a fresh database replaced: when it was last written, and the unsent readings it took with it, where it could still tell. */
interface ReplacedFile {
  lastWriteMs: number;
  lost: DroppedRun | undefined;
}

/**
 * Opens the database after `PRAGMA quick_check`. A file that fails it (or is no database at all)
 * is moved aside with a loud log line and a fresh one is started: a corrupt file must never turn
 * into a crash loop at a site nobody visits. Any other failure to open (permissions, a busy or
 * missing folder) is thrown as it is: moving a healthy outbox aside would abandon its readings.
 */
function openChecked(path: string, log: Logger): { db: Database; replaced?: ReplacedFile } {
  const problem = corruption(path);
  if (problem === undefined) return { db: new Database(path) };
  // The database's own counters first; the side file where the damage took them.
  // Seqs are microseconds: the side file's last seq bounds the new numbering too (an emptied file's time says little).
  const lastWriteMs = Math.max(lastWrite(path), (sideCounters(path)?.lastSeq ?? 0) / 1000);
  const replaced = { lastWriteMs, lost: unsentOf(path) ?? unsentFromCounters(path) };
  const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
  }
  log.fatal(
    {
      path,
      movedTo: aside,
      problem,
      ...(replaced.lost === undefined
        ? { unsentLost: 'unknown: the file no longer says' }
        : { unsentLost: replaced.lost.count, firstSeq: replaced.lost.firstSeq, lastSeq: replaced.lost.lastSeq }),
    },
    'database failed its integrity check: moved aside, starting a fresh one',
  );
  return { db: new Database(path), replaced };
}

/** Latest modification time of the database and its WAL, epoch ms. */
function lastWrite(path: string): number {
  return Math.max(...['', '-wal'].map((suffix) => (existsSync(path + suffix) ? statSync(path + suffix).mtimeMs : 0)));
}

/** SQLite's codes for a file that is damaged or no database at all; anything else is not the file's fault. */
const CORRUPTION_CODES = /^SQLITE_(CORRUPT|NOTADB)/;

function corruption(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const emptied = emptiedFile(path);
  if (emptied !== undefined) return emptied;
  let db: Database | undefined;
  try {
    db = new Database(path);
    const result = db.pragma('quick_check', { simple: true });
    return result === 'ok' ? undefined : String(result);
  } catch (err) {
    const { code, message } = err as { code?: unknown; message: string };
    if (typeof code === 'string' && CORRUPTION_CODES.test(code)) return message;
    throw new Error(`cannot open the reading store ${path}: ${message}; check that the state directory exists and is writable by the service`, { cause: err });
  } finally {
    db?.close();
  }
}

/**
 * A file of 0 bytes is a valid empty database to SQLite, and would silently start afresh. After a
 * power cut a file system can leave a database that had been written just that (its data never
 * reached the disk): when the side file says seqs were handed out, the file has lost them.
 */
function emptiedFile(path: string): string | undefined {
  if (statSync(path).size > 0) return undefined;
  const counters = sideCounters(path);
  if (counters === undefined || counters.lastSeq === 0) return undefined;
  return `the file is empty (0 bytes), but its seq counters side file says it had numbered readings up to seq ${counters.lastSeq}`;
}

/**
 * The unsent readings of a corrupt file, counted from its seq counters, which sit on pages of
 * their own and often survive damage to the readings. Undefined when they did not.
 */
function unsentOf(path: string): DroppedRun | undefined {
  let db: Database | undefined;
  try {
    db = new Database(path, { readonly: true });
    const acked = db.prepare<[], { value: number }>('SELECT value FROM acked WHERE id = 1').get()?.value;
    const last = db.prepare<[], { last_seq: number }>('SELECT last_seq FROM sequence').get()?.last_seq;
    if (acked === undefined || last === undefined || last <= acked) return undefined;
    const dropped = db.prepare<[number], { n: number }>('SELECT coalesce(sum(count), 0) AS n FROM drops WHERE first_seq > ?').get(acked)?.n ?? 0;
    return { firstSeq: acked + 1, lastSeq: last, count: last - acked - dropped, reason: 'corrupt' };
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}
