import { PassThrough } from 'node:stream';
import parquet, { type ParquetPrimitive } from 'parquetjs-lite';

/** Delta primitive types the lake writes, with their Parquet physical/logical type. */
const PARQUET_TYPE = {
  string: 'UTF8',
  long: 'INT64',
  integer: 'INT32',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP_MICROS',
  date: 'DATE',
} as const satisfies Record<string, ParquetPrimitive>;

export type DeltaType = keyof typeof PARQUET_TYPE;
export type CellValue = string | number | boolean | Date | null;
export type Row = Record<string, CellValue>;

export interface Column {
  name: string;
  type: DeltaType;
  nullable: boolean;
  /** Whether min/max go into the add action's stats (skip long free text such as raw JSON). */
  minMax: boolean;
}

export interface TableSchema {
  columns: Column[];
  /** Partition columns are in the Delta schema but not in the data files. */
  partitionColumns: string[];
}

/** The Delta `schemaString`: Spark's JSON struct type. */
export function schemaString(schema: TableSchema): string {
  return JSON.stringify({
    type: 'struct',
    fields: schema.columns.map((column) => ({ name: column.name, type: column.type, nullable: column.nullable, metadata: {} })),
  });
}

function dataColumns(schema: TableSchema): Column[] {
  return schema.columns.filter((column) => !schema.partitionColumns.includes(column.name));
}

export interface ParquetFile {
  body: Buffer;
  /** The add action's stats, as the JSON text Delta stores. */
  stats: string;
}

/**
 * Encodes rows as one Parquet file (snappy, data page v1, all rows in one row group) and computes
 * the Delta statistics readers use to skip files.
 */
export async function encodeParquet(schema: TableSchema, rows: Row[]): Promise<ParquetFile> {
  const columns = dataColumns(schema);
  const parquetSchema = new parquet.ParquetSchema(
    Object.fromEntries(
      columns.map((column) => [column.name, { type: PARQUET_TYPE[column.type], optional: column.nullable, compression: 'SNAPPY' }]),
    ),
  );
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  const writer = await parquet.ParquetWriter.openStream(parquetSchema, sink, { rowGroupSize: Math.max(rows.length, 1), useDataPageV2: false });
  for (const row of rows) await writer.appendRow(withoutNulls(row, columns));
  await writer.close();
  return { body: Buffer.concat(chunks), stats: JSON.stringify(statistics(columns, rows)) };
}

/** parquetjs-lite writes an optional column's absence, not a null. */
function withoutNulls(row: Row, columns: Column[]): Record<string, CellValue> {
  const out: Record<string, CellValue> = {};
  for (const column of columns) {
    const value = row[column.name];
    if (value !== null && value !== undefined) out[column.name] = value;
  }
  return out;
}

type StatValue = string | number;

function statistics(columns: Column[], rows: Row[]) {
  const minValues: Record<string, StatValue> = {};
  const maxValues: Record<string, StatValue> = {};
  const nullCount: Record<string, number> = {};
  for (const column of columns) {
    const values = rows.map((row) => row[column.name] ?? null);
    nullCount[column.name] = values.filter((value) => value === null).length;
    if (!column.minMax || column.type === 'boolean') continue;
    const present = values.filter((value): value is Exclude<CellValue, null | boolean> => value !== null && typeof value !== 'boolean');
    if (present.length === 0) continue;
    const keyed = present.map((value) => (value instanceof Date ? value.getTime() : value));
    const min = keyed.reduce((a, b) => (b < a ? b : a));
    const max = keyed.reduce((a, b) => (b > a ? b : a));
    minValues[column.name] = statValue(column, min);
    maxValues[column.name] = statValue(column, max);
  }
  return { numRecords: rows.length, minValues, maxValues, nullCount };
}

/** Timestamps are stored with millisecond precision, so the ISO form bounds them exactly. */
function statValue(column: Column, value: string | number): StatValue {
  if (column.type === 'timestamp') return new Date(value).toISOString();
  if (column.type === 'date') return new Date(value).toISOString().slice(0, 10);
  return value;
}
