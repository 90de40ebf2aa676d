import type { Action } from '../delta/actions.js';
import { writeCheckpoint } from '../delta/checkpoint-file.js';
import { checkpointKey, LOG_DIR } from '../delta/log-store.js';
import type { Snapshot } from '../delta/snapshot.js';
import type { DeltaTable } from '../delta/table.js';
import { crashPoint } from '../test-crash.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Delta's `interval N days|hours|…` durations (delta.logRetentionDuration, delta.deletedFileRetentionDuration). */
export function parseInterval(text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const match = /^\s*(?:interval\s+)?(\d+)\s*(millisecond|second|minute|hour|day|week)s?\s*$/i.exec(text);
  if (match === null) return fallbackMs;
  const unit = { millisecond: 1, second: 1000, minute: 60_000, hour: 3_600_000, day: DAY_MS, week: 7 * DAY_MS }[(match[2] as string).toLowerCase()] ?? DAY_MS;
  return Number(match[1]) * unit;
}

/** The actions a checkpoint of the snapshot holds: protocol, metaData, txns, live files, unexpired tombstones, domains. */
export function checkpointActions(snapshot: Snapshot, now: number): Action[] {
  const { protocol, metaData } = snapshot;
  if (protocol === undefined || metaData === undefined) throw new Error('a snapshot without protocol or metaData cannot be checkpointed');
  const tombstoneRetention = parseInterval(metaData.configuration['delta.deletedFileRetentionDuration'], 7 * DAY_MS);
  const actions: Action[] = [{ protocol }, { metaData }];
  for (const [appId, version] of snapshot.txns) actions.push({ txn: { appId, version } });
  for (const add of snapshot.files.values()) actions.push({ add: { ...add, dataChange: false } });
  for (const remove of snapshot.tombstones.values()) {
    if ((remove.deletionTimestamp ?? 0) >= now - tombstoneRetention) actions.push({ remove: { ...remove, dataChange: false } });
  }
  for (const domainMetadata of snapshot.domains.values()) actions.push({ domainMetadata });
  return actions;
}

/**
 * Writes a classic checkpoint of the table's current version and points `_last_checkpoint` at it.
 * A crash in between leaves a checkpoint without the hint (readers list and find it) or nothing.
 */
export async function checkpoint(table: DeltaTable, now = Date.now()): Promise<{ version: number; actions: number; bytes: number }> {
  const snapshot = table.snapshot;
  const actions = checkpointActions(snapshot, now);
  const body = writeCheckpoint(actions);
  await table.store.put(checkpointKey(snapshot.version), body);
  crashPoint('checkpoint-before-last');
  await table.log.writeLastCheckpoint({ version: snapshot.version, size: actions.length, sizeInBytes: body.length, numOfAddFiles: snapshot.files.size });
  return { version: snapshot.version, actions: actions.length, bytes: body.length };
}

/**
 * Deletes log files no reader needs any more, as Spark and delta-rs do: only when
 * delta.enableExpiredLogCleanup is not false, only commits older than delta.logRetentionDuration
 * (30 days by default), and only below a checkpoint, so the log still starts at one.
 */
export async function cleanUpExpiredLogs(table: DeltaTable, now = Date.now()): Promise<number> {
  const configuration = table.snapshot.metaData?.configuration ?? {};
  if (configuration['delta.enableExpiredLogCleanup'] === 'false') return 0;
  const cutoff = now - parseInterval(configuration['delta.logRetentionDuration'], 30 * DAY_MS);
  const listing = await table.log.list(0);
  let lastExpired = -1;
  for (const [version, commit] of [...listing.commits].sort(([a], [b]) => a - b)) {
    if (commit.lastModified >= cutoff) break;
    lastExpired = version;
  }
  const boundary = listing.checkpoints.filter((c) => c.complete && c.version <= lastExpired + 1 && c.version <= table.snapshot.version).at(-1)?.version;
  if (boundary === undefined) return 0;
  const objects = await table.store.list(LOG_DIR);
  const doomed = objects.filter((object) => {
    const version = /^_delta_log\/(\d{20})\.(?:json|crc|checkpoint\.)/.exec(object.key)?.[1];
    return version !== undefined && Number(version) < boundary;
  });
  // Oldest first: a reader listing meanwhile sees a log that still starts at a checkpoint or at version 0.
  for (const object of doomed) await table.store.delete(object.key);
  return doomed.length;
}
