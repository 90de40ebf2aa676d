import { READINGS_TABLE, readingBatches, type KafkaPosition, type LakeReading } from '../tables/readings.js';
import { assertFilled, dataColumns } from '../tables/schema.js';
import { encodeParquet } from './encode.js';
import type { FileStats } from './stats.js';

export interface EncodeJob {
  readings: Array<{ reading: LakeReading; position: KafkaPosition }>;
}

/** One encoded data file of a partition, not yet uploaded. */
export interface EncodedPartition {
  partitionValues: Record<string, string | null>;
  body: Uint8Array;
  stats: FileStats;
}

const COLUMNS = dataColumns(READINGS_TABLE);

/** The readings as one Parquet file per date partition, with its Delta stats. */
export function encodeReadings(job: EncodeJob): EncodedPartition[] {
  return readingBatches(job.readings).map(({ partitionValues, batch }) => {
    assertFilled({ ...READINGS_TABLE, columns: COLUMNS }, batch);
    const file = encodeParquet(COLUMNS, batch.columns, batch.length);
    return { partitionValues, body: file.body, stats: file.stats };
  });
}
