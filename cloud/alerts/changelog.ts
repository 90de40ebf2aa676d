import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import type { Logger } from '../../shared/log.js';

/**
 * The alerts state changelog (as Kafka Streams keeps one per state store): a compacted topic with
 * as many partitions as the readings topic, partition P holding the state of readings partition P.
 * Keys are subject keys (`d:site/device`, `s:site`) plus `@meta` (watermark, next offset), `@rules`
 * (the rule set the state was made under, written when it changes) and `@marker` (see `restore`);
 * values are JSON, a tombstone (null) deletes. Compaction keeps the
 * newest value per key, so a restore reads about one record per live subject, not the history.
 */

export const META_KEY = '@meta';
export const MARKER_KEY = '@marker';
export const RULES_KEY = '@rules';

export interface PartitionMeta {
  /** The watermark (event time, ms) when the state was written. */
  watermark: number;
  /** The readings offset the state covers up to (exclusive): where processing continues. */
  nextOffset: string;
}

/** The latest value per key of one changelog partition. */
export type RestoredPartition = Map<string, string>;

/** Changelog messages for a set of changes of partition P. */
export function changelogMessages(partition: number, entries: Array<{ key: string; value: string | null }>): Message[] {
  return entries.map(({ key, value }) => ({ partition, key, value }));
}

/** A fresh marker value; the partition's new owner writes it (committed) before it restores. */
export function newMarker(): string {
  return randomUUID();
}

/**
 * Reads changelog partitions from the start until each one's marker: the marker was committed by
 * the partition's new owner after fencing the previous one, so everything before it is all the
 * state there is, and nothing after it belongs to an older owner. (The end offset cannot serve:
 * with transactions the last offset of a partition is often a commit marker no consumer sees.)
 */
export async function restorePartitions(
  kafka: Kafka,
  topic: string,
  markers: Map<number, string>,
  options: { groupPrefix: string; timeoutMs: number; heartbeat: () => Promise<void>; log: Logger },
): Promise<Map<number, RestoredPartition>> {
  const restored = new Map<number, RestoredPartition>([...markers.keys()].map((p) => [p, new Map()]));
  const pending = new Set(markers.keys());
  // A throwaway group that commits nothing: the broker forgets it once it leaves.
  const consumer = kafka.consumer({ groupId: `${options.groupPrefix}-restore-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`changelog ${topic}: partitions ${[...pending].join(', ')} not restored within ${options.timeoutMs} ms; is a transaction of a dead instance still open? (it times out after alerts.transactionTimeoutMs)`)),
        options.timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const state = restored.get(batch.partition);
            if (state === undefined || !pending.has(batch.partition)) {
              consumer.pause([{ topic, partitions: [batch.partition] }]);
              return;
            }
            for (const message of batch.messages) {
              const key = message.key?.toString() ?? '';
              const value = message.value === null ? null : message.value.toString();
              if (key === MARKER_KEY) {
                if (value === markers.get(batch.partition)) {
                  pending.delete(batch.partition);
                  consumer.pause([{ topic, partitions: [batch.partition] }]);
                  break;
                }
                continue;
              }
              if (value === null) state.delete(key);
              else state.set(key, value);
            }
            await options.heartbeat();
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return restored;
}
