// The package ships no types; this declares the part of its API the lake uses.
declare module 'parquetjs-lite' {
  import type { Writable } from 'node:stream';

  export type ParquetPrimitive =
    | 'UTF8' | 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP_MICROS' | 'TIMESTAMP_MILLIS' | 'DATE';

  export interface ParquetFieldDefinition {
    type: ParquetPrimitive;
    optional?: boolean;
    compression?: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP';
  }

  class ParquetSchema {
    constructor(fields: Record<string, ParquetFieldDefinition>);
  }

  export interface ParquetWriterOptions {
    rowGroupSize?: number;
    useDataPageV2?: boolean;
  }

  class ParquetWriter {
    static openStream(schema: ParquetSchema, stream: Writable, options?: ParquetWriterOptions): Promise<ParquetWriter>;
    appendRow(row: Record<string, unknown>): Promise<void>;
    close(): Promise<void>;
  }

  // CommonJS: the classes are properties of the module object, not named ESM exports.
  const parquet: { ParquetSchema: typeof ParquetSchema; ParquetWriter: typeof ParquetWriter };
  export default parquet;
}
