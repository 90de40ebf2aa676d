import type { CommitInfo, DeltaTable } from '../delta/table.js';
import type { KafkaPosition } from '../tables/readings.js';
import type { PartitionBatch } from '../tables/schema.js';
import { deleteUncommitted, writeDataFiles } from './write-files.js';

/** A Kafka message for a table kept exactly once by offset alone; without a row it only moves the offset on. */
export interface OffsetEntry<T> {
  position: KafkaPosition;
  row: T | undefined;
}

const MAX_REPLANS = 20;

/**
 * Appends rows exactly once by their Kafka offsets, for tables whose messages carry no seq of
 * their own (dead letters, alerts): the table keeps one txn per partition (`txnOf`) holding its
 * last offset in the table; entries at or below it were committed before (a restart, a rebalance,
 * a racing writer) and are left out. Rows and txns go in one commit; when another writer moved one
 * of the same txns meanwhile, the files of the stale plan are deleted and it plans again.
 * Returns how many rows were added (0 when the table already had them all).
 */
export async function appendOncePerOffset<T>(
  table: DeltaTable,
  entries: Array<OffsetEntry<T>>,
  txnOf: (partition: number) => string,
  toBatches: (rows: T[]) => PartitionBatch[],
  info: CommitInfo,
): Promise<number> {
  for (let attempt = 1; attempt <= MAX_REPLANS; attempt += 1) {
    const fresh = entries.filter((entry) => Number(entry.position.offset) > (table.snapshot.txns.get(txnOf(entry.position.partition)) ?? -1));
    if (fresh.length === 0) return 0;
    const txns = new Map<string, number>();
    for (const { position } of fresh) {
      const appId = txnOf(position.partition);
      txns.set(appId, Math.max(txns.get(appId) ?? -1, Number(position.offset)));
    }
    const rows = fresh.flatMap((entry) => (entry.row === undefined ? [] : [entry.row]));
    const adds = await writeDataFiles(table.store, table.definition, toBatches(rows), true);
    const actions = [...adds.map((add) => ({ add })), ...[...txns].map(([appId, version]) => ({ txn: { appId, version, lastUpdated: Date.now() } }))];
    const version = await table.commit(actions, info, { txnAppIds: txns.keys() });
    if (version !== undefined) return rows.length;
    await deleteUncommitted(table.store, adds);
  }
  throw new Error(`appending to ${table.location}: the plan went stale ${MAX_REPLANS} times in a row`);
}
