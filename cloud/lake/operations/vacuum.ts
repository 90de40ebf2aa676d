import type { DeltaTable } from '../delta/table.js';
import { assertWritable } from '../delta/protocol.js';
import type { ObjectMeta } from '../storage/object-store.js';

export interface VacuumPlan {
  /** Files no version within the retention needs, older than the retention: what execute deletes. */
  doomed: ObjectMeta[];
  bytes: number;
  retentionMs: number;
}

/** Never below a day: a shorter retention could delete files a running query or a slow writer still needs. */
const MIN_RETENTION_MS = 24 * 3_600_000;

/**
 * What vacuum would delete: data files the snapshot does not reference (neither live nor a tombstone
 * younger than the retention) and last modified before the retention. The log (`_delta_log/`) and
 * hidden folders (`_…`, such as `_change_data`) are never touched.
 */
export async function planVacuum(table: DeltaTable, retentionMs: number, now = Date.now()): Promise<VacuumPlan> {
  if (retentionMs < MIN_RETENTION_MS) throw new Error(`vacuum retention ${retentionMs} ms is below the minimum of 24 hours`);
  const { protocol, metaData } = table.snapshot;
  if (protocol === undefined || metaData === undefined) throw new Error(`table at ${table.location} has no protocol or metaData`);
  // vacuumProtocolCheck: a table with features this lake does not know may reference files in ways it cannot see.
  assertWritable(protocol, metaData, table.location);
  const cutoff = now - retentionMs;
  const keep = new Set<string>();
  for (const path of table.snapshot.files.keys()) keep.add(decodeURIComponent(path));
  for (const [path, remove] of table.snapshot.tombstones) {
    if ((remove.deletionTimestamp ?? now) >= cutoff) keep.add(decodeURIComponent(path));
  }
  const objects = await table.store.list('');
  const doomed = objects.filter((object) => !hidden(object.key) && !keep.has(object.key) && object.lastModified < cutoff);
  return { doomed, bytes: doomed.reduce((sum, object) => sum + object.size, 0), retentionMs };
}

export async function executeVacuum(table: DeltaTable, plan: VacuumPlan): Promise<number> {
  for (const object of plan.doomed) await table.store.delete(object.key);
  return plan.doomed.length;
}

function hidden(key: string): boolean {
  return key.split('/').some((part) => part.startsWith('_'));
}
