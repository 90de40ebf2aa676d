// The package ships no types; this declares the part of its API the lake uses. It is CommonJS:
// the classes are properties of the module object, not named ESM exports.
declare module 'parquetjs-lite' {
  import type { Writable } from 'node:stream';

  export type ParquetPrimitive =
    | 'UTF8' | 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP_MICROS' | 'TIMESTAMP_MILLIS' | 'DATE';

  export interface ParquetFieldDefinition {
    type: ParquetPrimitive;
    optional?: boolean;
    compression?: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP';
  }

  export interface ParquetWriterOptions {
    rowGroupSize?: number;
    useDataPageV2?: boolean;
  }

  export interface ParquetSchema {
    readonly fieldList: unknown[];
  }

  export interface ParquetWriter {
    appendRow(row: Record<string, unknown>): Promise<void>;
    close(): Promise<void>;
  }

  const parquet: {
    ParquetSchema: new (fields: Record<string, ParquetFieldDefinition>) => ParquetSchema;
    ParquetWriter: {
      openStream(schema: ParquetSchema, stream: Writable, options?: ParquetWriterOptions): Promise<ParquetWriter>;
    };
  };
  export default parquet;
}
