import type { Action, AddAction } from '../delta/actions.js';
import type { DeltaTable } from '../delta/table.js';
import { decodeColumns } from '../parquet/decode.js';
import type { CellValue, Column, ColumnBatch, DeltaType } from '../tables/schema.js';
import { deleteUncommitted, writeDataFiles } from './write-files.js';

export interface OptimizeSettings {
  /** Files below this size are small; each compaction writes files up to about this size. */
  targetFileBytes: number;
  /** A partition is compacted only when it has at least this many small files. */
  minFilesToCompact: number;
}

/** One rewrite: these files of one partition become one file. */
export interface CompactionBin {
  partitionValues: Record<string, string | null>;
  files: AddAction[];
  bytes: number;
}

export interface OptimizePlan {
  version: number;
  bins: CompactionBin[];
}

/** The small files of each partition, grouped into bins of about the target size (oldest first). */
export function planOptimize(table: DeltaTable, settings: OptimizeSettings): OptimizePlan {
  const byPartition = new Map<string, AddAction[]>();
  for (const add of table.snapshot.files.values()) {
    if (add.size >= settings.targetFileBytes) continue;
    const key = JSON.stringify(add.partitionValues);
    byPartition.set(key, [...(byPartition.get(key) ?? []), add]);
  }
  const bins: CompactionBin[] = [];
  for (const files of byPartition.values()) {
    if (files.length < settings.minFilesToCompact) continue;
    files.sort((a, b) => a.modificationTime - b.modificationTime);
    let bin: CompactionBin | undefined;
    for (const file of files) {
      if (bin === undefined || bin.bytes + file.size > settings.targetFileBytes) {
        if (bin !== undefined && bin.files.length > 1) bins.push(bin);
        bin = { partitionValues: file.partitionValues, files: [], bytes: 0 };
      }
      bin.files.push(file);
      bin.bytes += file.size;
    }
    if (bin !== undefined && bin.files.length > 1) bins.push(bin);
  }
  return { version: table.snapshot.version, bins };
}

export interface OptimizeResult {
  version: number | undefined;
  filesRemoved: number;
  filesAdded: number;
  bytesRemoved: number;
  bytesAdded: number;
  /** Bins another writer changed meanwhile (their files were removed): left for the next run. */
  skipped: number;
}

/**
 * Rewrites each bin into one file and commits its removes and add with dataChange false, which an
 * append-only table allows (the rows stay the same). One commit per bin, so a conflict loses one bin only.
 */
export async function executeOptimize(table: DeltaTable, plan: OptimizePlan, now = Date.now()): Promise<OptimizeResult> {
  const columns = tableColumns(table);
  const result: OptimizeResult = { version: undefined, filesRemoved: 0, filesAdded: 0, bytesRemoved: 0, bytesAdded: 0, skipped: 0 };
  for (const bin of plan.bins) {
    if (bin.files.some((file) => !table.snapshot.files.has(file.path))) {
      result.skipped += 1;
      continue;
    }
    const merged = await readBin(table, bin, columns);
    const definition = { ...table.definition, columns: columns.map((column) => ({ ...column, nullable: true })) };
    const adds = await writeDataFiles(table.store, definition, [{ partitionValues: bin.partitionValues, batch: merged }], false);
    const actions: Action[] = [
      ...bin.files.map((file) => ({
        remove: { path: file.path, deletionTimestamp: now, dataChange: false, extendedFileMetadata: true, partitionValues: file.partitionValues, size: file.size },
      })),
      ...adds.map((add) => ({ add })),
    ];
    const version = await table.commit(actions, { operation: 'OPTIMIZE', operationParameters: { predicate: '[]', zOrderBy: '[]' } }, { removedFiles: bin.files.map((file) => file.path) });
    if (version === undefined) {
      await deleteUncommitted(table.store, adds);
      result.skipped += 1;
      continue;
    }
    result.version = version;
    result.filesRemoved += bin.files.length;
    result.bytesRemoved += bin.bytes;
    result.filesAdded += adds.length;
    result.bytesAdded += adds.reduce((sum, add) => sum + add.size, 0);
  }
  return result;
}

const PRIMITIVE: ReadonlySet<string> = new Set<DeltaType>(['string', 'binary', 'long', 'integer', 'double', 'boolean', 'timestamp', 'date']);

/** The table's data columns as it is now (another writer's columns included), primitive types only. */
function tableColumns(table: DeltaTable): Column[] {
  const fields = (JSON.parse(table.snapshot.metaData?.schemaString ?? '{"fields":[]}') as { fields: Array<{ name: string; type: unknown; nullable: boolean }> }).fields;
  const partitions = new Set(table.snapshot.metaData?.partitionColumns ?? []);
  const ours = new Map(table.definition.columns.map((column) => [column.name, column]));
  return fields
    .filter((field) => !partitions.has(field.name))
    .map((field) => {
      if (typeof field.type !== 'string' || !PRIMITIVE.has(field.type)) {
        throw new Error(`optimize of ${table.location}: column ${field.name} has type ${JSON.stringify(field.type)}, which this lake cannot rewrite`);
      }
      return { name: field.name, type: field.type as DeltaType, nullable: field.nullable, minMax: ours.get(field.name)?.minMax ?? true };
    });
}

async function readBin(table: DeltaTable, bin: CompactionBin, columns: Column[]): Promise<ColumnBatch> {
  const parts: ColumnBatch[] = [];
  for (const file of bin.files) {
    const body = await table.store.get(decodeURIComponent(file.path));
    if (body === undefined) throw new Error(`optimize of ${table.location}: live file ${file.path} is missing from the store`);
    parts.push(await decodeColumns(body, columns));
  }
  const merged: Record<string, CellValue[]> = {};
  for (const column of columns) merged[column.name] = parts.flatMap((part) => part.columns[column.name] ?? []);
  return { length: parts.reduce((sum, part) => sum + part.length, 0), columns: merged };
}
