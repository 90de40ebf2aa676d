import { parquetMetadata, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { CellValue, Column, ColumnBatch } from '../tables/schema.js';

/** Timestamps stay microseconds (BigInt) and dates days, as the encoder takes them: a rewrite loses nothing. */
const PARSERS = {
  timestampFromMicroseconds: (micros: bigint) => micros,
  timestampFromMilliseconds: (millis: bigint) => millis * 1000n,
  timestampFromNanoseconds: (nanos: bigint) => nanos / 1000n,
  dateFromDays: (days: number) => days,
};

/**
 * The given columns of one Parquet file, column by column. A column the file lacks (written before
 * the column was added to the table) comes back as nulls, as every Delta reader sees it.
 */
export async function decodeColumns(body: Buffer, columns: Column[]): Promise<ColumnBatch> {
  const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  const metadata = parquetMetadata(file);
  const length = Number(metadata.num_rows);
  const present = new Set(metadata.schema.map((element) => element.name));
  const wanted = columns.filter((column) => present.has(column.name)).map((column) => column.name);
  const out: Record<string, CellValue[]> = {};
  for (const column of columns) out[column.name] = new Array<CellValue>(length).fill(null);
  await parquetRead({
    file,
    metadata,
    columns: wanted,
    compressors,
    parsers: PARSERS,
    onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
      const target = out[columnName];
      if (target === undefined) return;
      for (let row = rowStart; row < Math.min(rowEnd, length); row += 1) target[row] = normalise(columnData[row - rowStart]);
    },
  });
  return { length, columns: out };
}

function normalise(value: unknown): CellValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return BigInt(value.getTime()) * 1000n;
  return value as CellValue;
}
