import type { CellValue, PartitionBatch, TableDefinition } from './schema.js';

/**
 * Power-grid supply and demand per area and hour, as Japanese utilities publish it ("でんき予報":
 * demand, supply capacity, usage rate), beside the readings: what an operator looks at to decide a
 * demand-response campaign. Written by `echolake-cloud power-grid generate` (dummy data).
 */
export interface PowerGridHour {
  area: string;
  /** Start of the hour, ms since 1970 UTC. */
  hourMs: number;
  demandMw: number;
  supplyCapacityMw: number;
}

export const POWER_GRID_TABLE: TableDefinition = {
  name: 'power_grid',
  columns: [
    { name: 'area', type: 'string', nullable: false, minMax: true },
    { name: 'ts', type: 'timestamp', nullable: false, minMax: true },
    { name: 'demandMw', type: 'double', nullable: false, minMax: true },
    { name: 'supplyCapacityMw', type: 'double', nullable: false, minMax: true },
    { name: 'usagePercent', type: 'double', nullable: false, minMax: true },
    { name: 'reserveMarginPercent', type: 'double', nullable: false, minMax: true },
    { name: 'date', type: 'date', nullable: false, minMax: false },
  ],
  partitionColumns: ['date'],
  configuration: { 'delta.appendOnly': 'true', 'delta.parquet.compression.codec': 'snappy' },
};

const round1 = (value: number): number => Math.round(value * 10) / 10;

export function powerGridBatches(hours: PowerGridHour[]): PartitionBatch[] {
  const byDate = new Map<string, PowerGridHour[]>();
  for (const hour of hours) {
    const date = new Date(hour.hourMs).toISOString().slice(0, 10);
    byDate.set(date, [...(byDate.get(date) ?? []), hour]);
  }
  return [...byDate].map(([date, rows]) => {
    const column = (pick: (row: PowerGridHour) => CellValue): CellValue[] => rows.map(pick);
    return {
      partitionValues: { date },
      batch: {
        length: rows.length,
        columns: {
          area: column((r) => r.area),
          ts: column((r) => BigInt(r.hourMs) * 1000n),
          demandMw: column((r) => r.demandMw),
          supplyCapacityMw: column((r) => r.supplyCapacityMw),
          usagePercent: column((r) => round1((100 * r.demandMw) / r.supplyCapacityMw)),
          reserveMarginPercent: column((r) => round1((100 * (r.supplyCapacityMw - r.demandMw)) / r.demandMw)),
          date: column(() => null),
        },
      },
    };
  });
}
