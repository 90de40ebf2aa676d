import type { Action, AddAction } from '../delta/actions.js';
import type { Snapshot } from '../delta/snapshot.js';
import type { DeltaTable } from '../delta/table.js';
import type { ReadingsEncoder } from '../parquet/encoder-pool.js';
import type { KafkaPosition, LakeReading } from '../tables/readings.js';
import { crashPoint } from '../test-crash.js';
import { deleteUncommitted, uploadEncoded } from './write-files.js';

/** A Kafka message waiting for the next commit; `reading` is absent when the message could not be read. */
export interface PendingMessage {
  reading: LakeReading | undefined;
  position: KafkaPosition;
  /** For an unreadable message only: its bytes and why it could not be read (for the dead-letter table). */
  unreadable?: { value: Buffer; error: string };
}

/** Names of the txn actions that hold the exactly-once state in the table itself. */
export interface TxnNames {
  /** The last Kafka offset of a partition already in the table. */
  offset(partition: number): string;
  /** The highest seq of a site's seq stream (its edge database, named by epoch) already in the table, as seen in one partition. */
  seq(partition: number, siteId: string, epoch: string | undefined): string;
}

export function txnNames(appId: string, topic: string): TxnNames {
  return {
    offset: (partition) => `${appId}-${topic}-${partition}`,
    // Readings without an epoch (older edges) keep the name used before epochs existed.
    seq: (partition, siteId, epoch) => `${appId}-${topic}-${partition}-site-${siteId}${epoch === undefined ? '' : `-epoch-${epoch}`}`,
  };
}

export interface ExactlyOnceRules {
  names: TxnNames;
  /**
   * A seq more than this above its stream's high mark is refused (a corrupt or hostile value),
   * so it never becomes the mark that would make every later genuine reading look like a copy.
   */
  maxSeqJump: number;
}

/** What of the pending messages goes into the next commit, against the table as it is now. */
export interface AppendPlan {
  accepted: Array<{ reading: LakeReading; position: KafkaPosition }>;
  /** appId → version; a commit carries at most one txn per appId. */
  txns: Map<string, number>;
  /** Readings the table already holds (a site's resent batch). */
  duplicates: Array<{ siteId: string; seq: number }>;
  /** Messages that go nowhere in this table, with why: unreadable, or a seq jump. */
  refused: Array<{ position: KafkaPosition; reason: string; value: Buffer; siteId: string | null }>;
}

/**
 * Offsets at or below a partition's txn were committed before (a restart or a rebalance re-read
 * them). Within one partition a seq stream only grows, except where the site resent a whole batch
 * whose ack it never got: a seq at or below the stream's high mark is such a copy. A new edge
 * database gets a new epoch, so its seqs start a new stream instead of looking like copies.
 */
export function planExactlyOnce(snapshot: Snapshot, pending: PendingMessage[], rules: ExactlyOnceRules): AppendPlan {
  const txns = new Map<string, number>();
  const committed = (appId: string): number | undefined => txns.get(appId) ?? snapshot.txns.get(appId);
  const highest = streamHighs(snapshot, rules.names);
  const plan: AppendPlan = { accepted: [], txns, duplicates: [], refused: [] };
  for (const { reading, position, unreadable } of pending) {
    const offsetId = rules.names.offset(position.partition);
    const offset = Number(position.offset);
    if (offset <= (committed(offsetId) ?? -1)) continue;
    txns.set(offsetId, offset);
    if (reading === undefined) {
      plan.refused.push({ position, reason: `unreadable: ${unreadable?.error ?? 'no value'}`, value: unreadable?.value ?? Buffer.alloc(0), siteId: null });
      continue;
    }
    const seqId = rules.names.seq(position.partition, reading.siteId, reading.epoch);
    const mark = committed(seqId);
    if (mark !== undefined && reading.seq <= mark) {
      plan.duplicates.push({ siteId: reading.siteId, seq: reading.seq });
      continue;
    }
    // The jump is measured from the stream's highest seq in any partition: a device's first reading in a
    // partition has no mark there yet, and must not be able to set one far ahead either.
    const streamKey = rules.names.seq(-1, reading.siteId, reading.epoch);
    const high = highest.get(streamKey);
    if (high !== undefined && reading.seq - high > rules.maxSeqJump) {
      const reason = `seq ${reading.seq} jumps more than ${rules.maxSeqJump} past the last seq ${high} of its stream: a corrupt value, refused`;
      plan.refused.push({ position, reason, value: Buffer.from(JSON.stringify(reading)), siteId: reading.siteId });
      continue;
    }
    txns.set(seqId, reading.seq);
    highest.set(streamKey, Math.max(high ?? 0, reading.seq));
    plan.accepted.push({ reading, position });
  }
  return plan;
}

/** Per seq stream (site and epoch, over all partitions), the highest seq the table holds; keyed as names.seq(-1, …). */
function streamHighs(snapshot: Snapshot, names: TxnNames): Map<string, number> {
  const prefix = names.offset(-1).slice(0, -'-1'.length);
  const highs = new Map<string, number>();
  for (const [appId, version] of snapshot.txns) {
    const match = /^-?\d+(-site-.*)$/.exec(appId.slice(prefix.length));
    if (!appId.startsWith(prefix) || match === null) continue;
    const key = `${prefix}-1${match[1] ?? ''}`;
    highs.set(key, Math.max(highs.get(key) ?? 0, version));
  }
  return highs;
}

export interface AppendResult {
  version: number;
  files: number;
  rows: number;
  plan: AppendPlan;
}

const MAX_REPLANS = 20;

/**
 * Appends the pending messages exactly once: plan against the snapshot, write the files, commit
 * adds and txns together. When another writer advanced one of the same txns (a rebalance, a
 * racing second process) the files written for the stale plan are deleted and it plans again.
 * When the table already held everything, nothing is committed and the version is the snapshot's.
 */
async function uploadFiles(table: DeltaTable, plan: AppendPlan, encoder: ReadingsEncoder): Promise<AddAction[]> {
  const encoded = await encoder.encode({ readings: plan.accepted });
  crashPoint('before-upload');
  const adds = await uploadEncoded(table.store, encoded, true);
  crashPoint('after-upload');
  return adds;
}

export async function appendExactlyOnce(table: DeltaTable, pending: PendingMessage[], rules: ExactlyOnceRules, encoder: ReadingsEncoder): Promise<AppendResult> {
  for (let attempt = 1; attempt <= MAX_REPLANS; attempt += 1) {
    const plan = planExactlyOnce(table.snapshot, pending, rules);
    if (plan.txns.size === 0) return { version: table.snapshot.version, files: 0, rows: 0, plan };
    const adds = plan.accepted.length === 0 ? [] : await uploadFiles(table, plan, encoder);
    const actions: Action[] = [
      ...adds.map((add) => ({ add })),
      ...[...plan.txns].map(([appId, version]) => ({ txn: { appId, version, lastUpdated: Date.now() } })),
    ];
    const version = await table.commit(actions, { operation: 'STREAMING UPDATE', operationParameters: { outputMode: 'Append' }, isBlindAppend: true }, { txnAppIds: plan.txns.keys() });
    if (version !== undefined) return { version, files: adds.length, rows: plan.accepted.length, plan };
    await deleteUncommitted(table.store, adds);
  }
  throw new Error(`appending to ${table.location}: the plan went stale ${MAX_REPLANS} times in a row`);
}
