import { DeltaLogError } from '../delta/actions.js';

/** Delta primitive types the lake writes. */
export type DeltaType = 'string' | 'binary' | 'long' | 'integer' | 'double' | 'boolean' | 'timestamp' | 'date';

/**
 * A column's values as the Parquet encoder takes them: strings, numbers (integer, double, date as
 * days since 1970), booleans, BigInt (long, and timestamps as microseconds since 1970 UTC), null.
 */
export type CellValue = string | Uint8Array | number | bigint | boolean | null;

export interface Column {
  name: string;
  type: DeltaType;
  nullable: boolean;
  /** Whether min/max go into the add action's stats (skip long free text such as raw JSON). */
  minMax: boolean;
}

/** One table the lake writes: its columns (partition columns included) and Delta configuration. */
export interface TableDefinition {
  name: string;
  columns: Column[];
  partitionColumns: string[];
  configuration: Record<string, string>;
}

/** Rows of one partition, column by column (every array as long as `length`). */
export interface ColumnBatch {
  length: number;
  columns: Record<string, CellValue[]>;
}

/** A batch split by partition: the partition values (as Delta stores them) and that partition's rows. */
export interface PartitionBatch {
  partitionValues: Record<string, string | null>;
  batch: ColumnBatch;
}

interface SchemaField {
  name: string;
  type: unknown;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

/** The Delta `schemaString`: Spark's JSON struct type. */
export function schemaString(columns: Column[]): string {
  return JSON.stringify({ type: 'struct', fields: columns.map((column) => field(column)) });
}

const field = (column: Column): SchemaField => ({ name: column.name, type: column.type, nullable: column.nullable, metadata: {} });

export function dataColumns(definition: TableDefinition): Column[] {
  return definition.columns.filter((column) => !definition.partitionColumns.includes(column.name));
}

/**
 * The table's schema after this writer's columns are in it: columns it lacks are added as nullable
 * (a new property or reading kind needs no new table), and columns another writer added stay
 * (readers see them as null in our files). Undefined when nothing changes. A column of another
 * type, or a non-nullable column this writer cannot fill, is refused by name.
 */
export function evolvedSchema(tableSchema: string, definition: TableDefinition, location: string): string | undefined {
  const existing = (JSON.parse(tableSchema) as { fields: SchemaField[] }).fields;
  const byName = new Map(existing.map((f) => [f.name.toLowerCase(), f]));
  const ours = new Set(definition.columns.map((column) => column.name.toLowerCase()));
  for (const f of existing) {
    if (!ours.has(f.name.toLowerCase()) && !f.nullable) {
      throw new DeltaLogError(`table at ${location} has a non-nullable column ${f.name} that this lake does not write; make it nullable or point the lake at another root`);
    }
  }
  const added: SchemaField[] = [];
  for (const column of definition.columns) {
    const present = byName.get(column.name.toLowerCase());
    if (present === undefined) {
      added.push(field({ ...column, nullable: true }));
      continue;
    }
    if (present.type !== column.type || present.name !== column.name) {
      throw new DeltaLogError(
        `table at ${location} has column ${present.name} of type ${JSON.stringify(present.type)}; this lake writes ${column.name} as ${column.type}: point the lake at another root`,
      );
    }
  }
  if (added.length === 0) return undefined;
  return JSON.stringify({ type: 'struct', fields: [...existing, ...added] });
}

/** Columns a non-nullable column of ours must not hold null in; checked before anything is written. */
export function assertFilled(definition: TableDefinition, batch: ColumnBatch): void {
  for (const column of definition.columns) {
    const values = batch.columns[column.name];
    if (values === undefined || values.length !== batch.length) throw new Error(`column ${column.name} has ${values?.length ?? 0} values for ${batch.length} rows`);
    if (!column.nullable && values.includes(null)) throw new Error(`column ${column.name} is not nullable but a row has no value`);
  }
}
