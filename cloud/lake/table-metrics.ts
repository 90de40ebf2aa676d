import { Gauge, type Registry } from 'prom-client';
import type { Snapshot } from './delta/snapshot.js';
import type { DeltaTable } from './delta/table.js';

/** A table as of its latest version this process knows: the live files and their bytes. */
export interface TableSize {
  version: number;
  files: number;
  bytes: number;
}

export function tableSize(snapshot: Snapshot): TableSize {
  let bytes = 0;
  for (const file of snapshot.files.values()) bytes += file.size;
  return { version: snapshot.version, files: snapshot.files.size, bytes };
}

/**
 * The lake's tables on /metrics (and so on the pipeline panel): version, live files and bytes, read
 * from the writers' in-memory snapshots when scraped, so asking costs no storage request.
 */
export function registerTableMetrics(metrics: Registry, tables: () => readonly DeltaTable[]): void {
  const gauge = (name: string, help: string, pick: (size: TableSize) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['table'],
      registers: [metrics],
      collect() {
        this.reset();
        for (const table of tables()) this.set({ table: table.definition.name }, pick(tableSize(table.snapshot)));
      },
    });
  };
  gauge('echolake_lake_table_version', 'the latest version of the Delta table this writer knows', (size) => size.version);
  gauge('echolake_lake_table_files', 'live data files in the Delta table at that version', (size) => size.files);
  gauge('echolake_lake_table_bytes', 'bytes of the live data files in the Delta table at that version', (size) => size.bytes);
}
