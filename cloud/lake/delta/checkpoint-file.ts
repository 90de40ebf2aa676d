import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { DeltaLogError, knownAction, type Action } from './actions.js';

/** The action columns of a classic checkpoint this writer reads (Spark adds more, e.g. `add.stats_parsed`). */
const ACTION_COLUMNS = ['protocol', 'metaData', 'txn', 'add', 'remove', 'domainMetadata'] as const;

/** Reads a (part of a) classic Parquet checkpoint into actions; `where` names it in errors. */
export async function readCheckpoint(body: Buffer, where: string): Promise<Action[]> {
  const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  let rows: Array<Record<string, unknown>>;
  try {
    const metadata = parquetMetadata(file);
    const present = new Set(metadata.schema.map((element) => element.name));
    const columns = ACTION_COLUMNS.filter((column) => present.has(column));
    rows = (await parquetReadObjects({ file, metadata, columns, compressors })) as Array<Record<string, unknown>>;
  } catch (err) {
    throw new DeltaLogError(`checkpoint ${where} is not a readable Parquet file: ${(err as Error).message}`, { cause: err });
  }
  const actions: Action[] = [];
  for (const [index, row] of rows.entries()) {
    for (const column of ACTION_COLUMNS) {
      const value = row[column];
      if (value === null || value === undefined) continue;
      const action = knownAction({ [column]: plain(value) }, `checkpoint ${where} row ${index}`);
      if (action !== undefined) actions.push(action);
    }
  }
  return actions;
}

/** Parquet INT64 arrives as BigInt; the log's JSON (and the rest of this code) uses numbers. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  }
  return value;
}

const string = (name: string): SchemaElement => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
const long = (name: string): SchemaElement => ({ name, type: 'INT64', repetition_type: 'OPTIONAL' });
const int = (name: string): SchemaElement => ({ name, type: 'INT32', repetition_type: 'OPTIONAL' });
const bool = (name: string): SchemaElement => ({ name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' });
const struct = (name: string, children: SchemaElement[][]): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', num_children: children.length },
  ...children.flat(),
];
const stringMap = (name: string): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'MAP', num_children: 1 },
  { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
  { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  string('value'),
];
const stringList = (name: string): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  string('element'),
];

/** Spark's classic checkpoint schema (the fields of the features this writer supports), every field optional. */
const CHECKPOINT_SCHEMA: SchemaElement[] = [
  { name: 'spark_schema', num_children: 6 },
  ...struct('txn', [[string('appId')], [long('version')], [long('lastUpdated')]]),
  ...struct('add', [
    [string('path')],
    stringMap('partitionValues'),
    [long('size')],
    [long('modificationTime')],
    [bool('dataChange')],
    stringMap('tags'),
    [string('stats')],
  ]),
  ...struct('remove', [
    [string('path')],
    [long('deletionTimestamp')],
    [bool('dataChange')],
    [bool('extendedFileMetadata')],
    stringMap('partitionValues'),
    [long('size')],
    stringMap('tags'),
  ]),
  ...struct('metaData', [
    [string('id')],
    [string('name')],
    [string('description')],
    struct('format', [[string('provider')], stringMap('options')]),
    [string('schemaString')],
    stringList('partitionColumns'),
    stringMap('configuration'),
    [long('createdTime')],
  ]),
  ...struct('protocol', [[int('minReaderVersion')], [int('minWriterVersion')], stringList('readerFeatures'), stringList('writerFeatures')]),
  ...struct('domainMetadata', [[string('domain')], [string('configuration')], [bool('removed')]]),
];

const COLUMN_OF = { txn: 'txn', add: 'add', remove: 'remove', metaData: 'metaData', protocol: 'protocol', domainMetadata: 'domainMetadata' } as const;
type CheckpointColumn = keyof typeof COLUMN_OF;

/**
 * One classic checkpoint file: a row per action (protocol, metaData, txns, live adds, unexpired
 * removes, domain metadata), snappy-compressed. Int64 fields are written as BigInt.
 */
export function writeCheckpoint(actions: Action[]): Buffer {
  const columns: Record<CheckpointColumn, unknown[]> = { txn: [], add: [], remove: [], metaData: [], protocol: [], domainMetadata: [] };
  for (const action of actions) {
    const kind = Object.keys(action)[0] as CheckpointColumn;
    if (!(kind in COLUMN_OF)) continue;
    for (const column of Object.keys(columns) as CheckpointColumn[]) {
      columns[column].push(column === kind ? checkpointValue(kind, (action as Record<string, unknown>)[kind] as Record<string, unknown>) : null);
    }
  }
  const buffer = parquetWriteBuffer({
    schema: CHECKPOINT_SCHEMA,
    columnData: (Object.keys(columns) as CheckpointColumn[]).map((name) => ({ name, data: columns[name] })),
    codec: 'SNAPPY',
    statistics: false,
    rowGroupSize: 1_000_000,
  });
  return Buffer.from(buffer);
}

const LONG_FIELDS = new Set(['version', 'lastUpdated', 'size', 'modificationTime', 'deletionTimestamp', 'createdTime']);

/** The action as the checkpoint stores it: int64 fields as BigInt, absent fields as null. */
function checkpointValue(kind: CheckpointColumn, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(value)) {
    if (inner === undefined) continue;
    out[field] = LONG_FIELDS.has(field) && typeof inner === 'number' ? BigInt(inner) : inner;
  }
  if (kind === 'metaData' && out.format !== undefined) {
    const format = out.format as { provider: string; options?: Record<string, string> };
    out.format = { provider: format.provider, options: format.options ?? {} };
  }
  return out;
}
