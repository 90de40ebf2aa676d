import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { CellValue, Column, DeltaType } from '../tables/schema.js';
import { fileStats, type FileStats } from './stats.js';

/** Parquet physical and logical types of the Delta types (PROTOCOL.md "Primitive Types"). */
const PARQUET_TYPE: Record<DeltaType, Omit<SchemaElement, 'name' | 'repetition_type'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  binary: { type: 'BYTE_ARRAY' },
  long: { type: 'INT64' },
  integer: { type: 'INT32' },
  double: { type: 'DOUBLE' },
  boolean: { type: 'BOOLEAN' },
  // The logical type with isAdjustedToUTC tells raw Parquet readers (DuckDB's read_parquet) it is an instant;
  // the legacy converted type is kept for older readers, as Spark writes both.
  timestamp: { type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } },
  date: { type: 'INT32', converted_type: 'DATE' },
};

export interface EncodedFile {
  body: Buffer;
  stats: FileStats;
}

/** Rows per row group: big enough for readers' vectorised scans, small enough to bound the writer's pages. */
const ROW_GROUP_ROWS = 250_000;

/**
 * One Parquet file of the given columns (partition columns excluded by the caller): snappy,
 * dictionary encoding where it halves a column (hyparquet-writer's rule), Parquet min/max
 * statistics, and the Delta stats computed from the same values.
 */
export function encodeParquet(columns: Column[], data: Record<string, CellValue[]>, numRecords: number): EncodedFile {
  const schema: SchemaElement[] = [
    { name: 'spark_schema', num_children: columns.length },
    ...columns.map((column) => ({ name: column.name, repetition_type: column.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const), ...PARQUET_TYPE[column.type] })),
  ];
  const buffer = parquetWriteBuffer({
    schema,
    columnData: columns.map((column) => ({ name: column.name, data: data[column.name] ?? [], nullable: column.nullable })),
    codec: 'SNAPPY',
    rowGroupSize: ROW_GROUP_ROWS,
    statisticsTruncateLength: 64,
    createdBy: 'echolake (hyparquet-writer)',
  });
  return { body: Buffer.from(buffer), stats: fileStats(columns, data, numRecords) };
}
