import { randomUUID } from 'node:crypto';
import type { AddAction } from '../delta/actions.js';
import { encodeParquet } from '../parquet/encode.js';
import type { EncodedPartition } from '../parquet/encode-readings.js';
import type { ObjectStore } from '../storage/object-store.js';
import { assertFilled, dataColumns, type PartitionBatch, type TableDefinition } from '../tables/schema.js';

/** Hive-style folder of a partition; null is `__HIVE_DEFAULT_PARTITION__` as Spark and delta-rs write it. */
function partitionFolder(values: Record<string, string | null>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${value === null ? '__HIVE_DEFAULT_PARTITION__' : encodeURIComponent(value)}/`)
    .join('');
}

/**
 * Encodes each partition's rows as one Parquet file with a unique name (never overwritten), uploads
 * it and returns its add action (dataChange true for appends, false for a compaction's rewrite).
 */
export async function writeDataFiles(store: ObjectStore, definition: TableDefinition, batches: PartitionBatch[], dataChange: boolean): Promise<AddAction[]> {
  const columns = dataColumns(definition);
  const adds: AddAction[] = [];
  for (const { partitionValues, batch } of batches) {
    if (batch.length === 0) continue;
    assertFilled({ ...definition, columns }, batch);
    const file = encodeParquet(columns, batch.columns, batch.length);
    const path = `${partitionFolder(partitionValues)}part-00000-${randomUUID()}-c000.snappy.parquet`;
    await store.put(path, file.body);
    adds.push({ path, partitionValues, size: file.body.length, modificationTime: Date.now(), dataChange, stats: JSON.stringify(file.stats) });
  }
  return adds;
}

/** Uploads files encoded elsewhere (the encoder pool) and returns their add actions. */
export async function uploadEncoded(store: ObjectStore, files: EncodedPartition[], dataChange: boolean): Promise<AddAction[]> {
  return Promise.all(
    files.map(async ({ partitionValues, body, stats }) => {
      const path = `${partitionFolder(partitionValues)}part-00000-${randomUUID()}-c000.snappy.parquet`;
      await store.put(path, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      return { path, partitionValues, size: body.byteLength, modificationTime: Date.now(), dataChange, stats: JSON.stringify(stats) };
    }),
  );
}

/** Removes files a commit that never happened wrote (a conflict made its plan stale); best effort, vacuum catches the rest. */
export async function deleteUncommitted(store: ObjectStore, adds: AddAction[]): Promise<void> {
  await Promise.all(adds.map((add) => store.delete(decodeURIComponent(add.path)).catch(() => undefined)));
}
