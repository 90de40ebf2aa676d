import type { Logger } from '../../shared/log.js';
import { DeltaTable } from '../lake/delta/table.js';
import { writeDataFiles } from '../lake/operations/write-files.js';
import type { ObjectStore } from '../lake/storage/object-store.js';
import { POWER_GRID_TABLE, powerGridBatches, type PowerGridHour } from '../lake/tables/power-grid.js';

/**
 * Appends the hours to the `power_grid` table in one commit; dates the table has already are
 * refused (naming them), so running the generator twice never doubles a day.
 */
export async function writePowerGrid(store: ObjectStore, hours: PowerGridHour[], log: Logger, engineInfo: string): Promise<{ version: number; rows: number }> {
  const table = await DeltaTable.open(store, POWER_GRID_TABLE, log, engineInfo);
  const present = new Set([...table.snapshot.files.values()].map((add) => add.partitionValues.date));
  const batches = powerGridBatches(hours);
  const clash = batches.map((b) => b.partitionValues.date).filter((date) => present.has(date));
  if (clash.length > 0) throw new Error(`power_grid already holds ${clash.slice(0, 5).join(', ')}${clash.length > 5 ? ', …' : ''}: generate other dates (--from, --days)`);
  const adds = await writeDataFiles(store, POWER_GRID_TABLE, batches, true);
  const version = await table.commit(adds.map((add) => ({ add })), { operation: 'WRITE', operationParameters: { mode: 'Append' }, isBlindAppend: true });
  if (version === undefined) throw new Error('another writer committed to power_grid at the same time; run the generator again');
  return { version, rows: hours.length };
}
