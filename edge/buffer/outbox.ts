import Database from 'better-sqlite3';
import type { Logger } from '../../shared/log.js';
import { READING_SCHEMA_VERSION, type Observation, type Reading } from '../../shared/reading.js';

export type Durability = 'NORMAL' | 'FULL';

export interface OutboxOptions {
  /** Path of the SQLite file; its folder must exist. */
  path: string;
  siteId: string;
  /** SQLite `synchronous` in WAL mode: NORMAL may roll back the last commits on power loss, FULL fsyncs each one. */
  durability: Durability;
}

/** The oldest unacknowledged readings, already serialised, in seq order. */
export interface PendingReadings {
  firstSeq: number;
  lastSeq: number;
  /** One JSON document per reading, exactly as stored. */
  payloads: string[];
  bytes: number;
}

/**
 * The edge's store-and-forward outbox. A reading exists once its transaction committed; it
 * leaves only when the cloud acknowledged its seq end to end. Seqs come from a persisted
 * counter, not from the rowid, so emptying the outbox never makes a seq come round again.
 */
export class Outbox {
  private readonly db: Database.Database;
  private readonly insertReading: Database.Statement<[number, string]>;
  private readonly advanceSequence: Database.Statement<[number, string], { last_seq: number }>;
  private readonly selectOldest: Database.Statement<[number], { seq: number; payload: string }>;
  private readonly deleteThrough: Database.Statement<[number]>;
  private readonly appendAll: (observations: Observation[]) => Reading[];

  private constructor(
    private readonly options: OutboxOptions,
    private readonly log: Logger,
  ) {
    this.db = new Database(options.path);
    this.configure();
    this.insertReading = this.db.prepare('INSERT INTO outbox (seq, payload) VALUES (?, ?)');
    this.advanceSequence = this.db.prepare(
      'UPDATE sequence SET last_seq = last_seq + ? WHERE site_id = ? RETURNING last_seq',
    );
    this.selectOldest = this.db.prepare('SELECT seq, payload FROM outbox ORDER BY seq LIMIT ?');
    this.deleteThrough = this.db.prepare('DELETE FROM outbox WHERE seq <= ?');
    this.appendAll = this.db.transaction((observations: Observation[]) => this.numberAndInsert(observations));
  }

  static open(options: OutboxOptions, log: Logger): Outbox {
    return new Outbox(options, log);
  }

  /** Numbers and stores a poll cycle's observations in one transaction (one commit, not one per row). */
  append(observations: Observation[]): Reading[] {
    if (observations.length === 0) return [];
    return this.appendAll(observations);
  }

  /** The oldest readings not yet acknowledged, bounded by count and bytes (always at least one if any). */
  oldest(maxCount: number, maxBytes: number): PendingReadings | undefined {
    const rows = this.selectOldest.all(maxCount);
    const first = rows[0];
    if (first === undefined) return undefined;
    const payloads: string[] = [];
    let bytes = 0;
    let lastSeq = first.seq;
    for (const row of rows) {
      const size = Buffer.byteLength(row.payload);
      if (payloads.length > 0 && bytes + size > maxBytes) break;
      payloads.push(row.payload);
      bytes += size;
      lastSeq = row.seq;
    }
    return { firstSeq: first.seq, lastSeq, payloads, bytes };
  }

  /** Removes every reading with `seq <= lastSeq`: the cloud holds them now. */
  acknowledge(lastSeq: number): number {
    return this.deleteThrough.run(lastSeq).changes;
  }

  close(): void {
    this.db.close();
  }

  private numberAndInsert(observations: Observation[]): Reading[] {
    const { siteId } = this.options;
    const advanced = this.advanceSequence.get(observations.length, siteId);
    if (advanced === undefined) throw new Error(`sequence row for site ${siteId} is missing`);
    const firstSeq = advanced.last_seq - observations.length + 1;
    return observations.map((observation, index) => {
      const reading: Reading = { v: READING_SCHEMA_VERSION, siteId, seq: firstSeq + index, ...observation };
      this.insertReading.run(reading.seq, JSON.stringify(reading));
      return reading;
    });
  }

  private configure(): void {
    // auto_vacuum only takes effect before the first table exists.
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${this.options.durability}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS site (id TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS sequence (site_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, payload TEXT NOT NULL);
    `);
    this.claimForSite();
  }

  /** A database numbers one site's readings; reusing it for another site would mix two seq spaces. */
  private claimForSite(): void {
    const { siteId, path } = this.options;
    const owner = this.db.prepare<[], { id: string }>('SELECT id FROM site').get();
    if (owner === undefined) {
      this.db.transaction(() => {
        this.db.prepare('INSERT INTO site (id) VALUES (?)').run(siteId);
        this.db.prepare('INSERT OR IGNORE INTO sequence (site_id, last_seq) VALUES (?, 0)').run(siteId);
      })();
      this.log.info({ siteId, path }, 'outbox created');
      return;
    }
    if (owner.id !== siteId) {
      throw new Error(
        `outbox ${path} belongs to site ${owner.id}, but siteId is ${siteId}: ` +
          'fix siteId in the configuration, or move the file aside to start a new site',
      );
    }
  }
}
