import type { CellValue, Column } from '../tables/schema.js';

/** Delta's per-file statistics, which readers use to skip files. */
export interface FileStats {
  numRecords: number;
  minValues: Record<string, string | number>;
  maxValues: Record<string, string | number>;
  nullCount: Record<string, number>;
}

/** Spark's default `delta.dataSkippingNumIndexedCols` and string prefix length. */
const INDEXED_COLUMNS = 32;
const STRING_PREFIX = 32;

/**
 * Stats of one file's columns (the first 32, as Spark collects). Timestamps are microseconds: the
 * minimum is written truncated to the millisecond and the maximum rounded up to the next one, so
 * both still bound the values a reader compares them with. A string longer than the prefix keeps
 * its truncated minimum and no maximum.
 */
export function fileStats(columns: Column[], data: Record<string, CellValue[]>, numRecords: number): FileStats {
  const stats: FileStats = { numRecords, minValues: {}, maxValues: {}, nullCount: {} };
  for (const column of columns.slice(0, INDEXED_COLUMNS)) {
    const values = data[column.name] ?? [];
    let nulls = 0;
    let min: CellValue = null;
    let max: CellValue = null;
    let truncated = false;
    for (const value of values) {
      if (value === null) {
        nulls += 1;
        continue;
      }
      if (!column.minMax || typeof value === 'boolean' || value instanceof Uint8Array) continue;
      if (typeof value === 'string' && value.length > STRING_PREFIX) truncated = true;
      if (min === null || value < min) min = value;
      if (max === null || value > max) max = value;
    }
    stats.nullCount[column.name] = nulls;
    if (min === null || max === null) continue;
    if (column.type === 'timestamp') {
      stats.minValues[column.name] = isoMillis(floorMillis(min as bigint));
      stats.maxValues[column.name] = isoMillis(ceilMillis(max as bigint));
    } else if (column.type === 'long') {
      stats.minValues[column.name] = Number(min);
      stats.maxValues[column.name] = Number(max);
    } else if (typeof min === 'string') {
      stats.minValues[column.name] = truncated ? min.slice(0, STRING_PREFIX) : min;
      if (!truncated) stats.maxValues[column.name] = max as string;
    } else {
      stats.minValues[column.name] = min as number;
      stats.maxValues[column.name] = max as number;
    }
  }
  return stats;
}

const floorMillis = (micros: bigint): bigint => (micros >= 0n ? micros / 1000n : -((-micros + 999n) / 1000n));
const ceilMillis = (micros: bigint): bigint => -floorMillis(-micros);
const isoMillis = (millis: bigint): string => new Date(Number(millis)).toISOString();
