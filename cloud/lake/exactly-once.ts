import type { Reading } from '../../shared/reading.js';
import type { Snapshot } from './delta-log.js';
import type { AppendPlan } from './delta-table.js';
import { readingRow, type KafkaPosition } from './readings-table.js';
import type { Row } from './table-schema.js';

/** A Kafka message waiting for the next commit; `reading` is absent when the message could not be read. */
export interface PendingMessage {
  reading: Reading | undefined;
  position: KafkaPosition;
}

export interface TxnNames {
  /** The last Kafka offset of a partition already in the table. */
  offset(partition: number): string;
  /** The highest seq of a site already in the table, as seen in one partition. */
  seq(partition: number, siteId: string): string;
}

export function txnNames(appId: string, topic: string): TxnNames {
  return {
    offset: (partition) => `${appId}-${topic}-${partition}`,
    seq: (partition, siteId) => `${appId}-${topic}-${partition}-site-${siteId}`,
  };
}

export interface ExactlyOncePlan extends AppendPlan {
  /** Readings dropped because the table already holds their seq (a site's resent batch). */
  duplicates: Array<{ siteId: string; seq: number }>;
}

/**
 * Decides what of the pending messages goes into the next commit, against the table as it is now.
 * Offsets at or below a partition's txn were committed before (a restart or a rebalance re-read
 * them). Within one partition a site's seqs only grow, except where the site resent a whole batch
 * whose ack it never got: a seq at or below the partition's high mark for that site is such a copy.
 * Unreadable messages add no row but still advance the offset, so they are not read again.
 */
export function planExactlyOnce(snapshot: Snapshot, pending: PendingMessage[], names: TxnNames): ExactlyOncePlan {
  const txns = new Map<string, number>();
  const committed = (appId: string, none: number): number => txns.get(appId) ?? snapshot.txns.get(appId) ?? none;
  const rows: Row[] = [];
  const duplicates: ExactlyOncePlan['duplicates'] = [];
  for (const { reading, position } of pending) {
    const offsetId = names.offset(position.partition);
    const offset = Number(position.offset);
    if (offset <= committed(offsetId, -1)) continue;
    txns.set(offsetId, offset);
    if (reading === undefined) continue;
    const seqId = names.seq(position.partition, reading.siteId);
    if (reading.seq <= committed(seqId, 0)) {
      duplicates.push({ siteId: reading.siteId, seq: reading.seq });
      continue;
    }
    txns.set(seqId, reading.seq);
    rows.push(readingRow(reading, position));
  }
  return { rows, txns, duplicates };
}
