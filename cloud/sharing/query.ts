/**
 * The protocol's table answers (delta-io/delta-sharing PROTOCOL.md, "parquet" response format, for
 * tables of reader version 1): the table version, metadata, and the query's file lines, for the
 * latest version, an older `version` or `timestamp`, or the data changes since a `startingVersion`
 * (what Spark's streaming source follows).
 */
import { createHash } from 'node:crypto';
import type { Action, AddAction, MetaDataAction } from '../lake/delta/actions.js';
import { commitTimes, versionAtOrAfter, versionAtOrBefore, type CommitTime } from '../lake/delta/history.js';
import type { Snapshot } from '../lake/delta/snapshot.js';
import type { SharedTable } from './catalog.js';
import { invalidParameter } from './errors.js';
import { partitionFilter } from './predicates.js';
import type { SharedTables, TableSource } from './tables.js';

/**
 * The query body's fields this server reads. jsonPredicateHints prune by partition values; the SQL
 * predicateHints are accepted and not applied (the protocol makes both best effort).
 */
export interface QueryBody {
  predicateHints?: string[];
  jsonPredicateHints?: string;
  limitHint?: number;
  version?: number;
  timestamp?: string;
  startingVersion?: number;
  endingVersion?: number;
}

/**
 * An NDJSON answer: the `delta-table-version` header and the lines. A query's lines are made as
 * they are sent (a URL signed per file), so a table of a million files is never one answer in memory.
 */
export interface Answer {
  version: number;
  lines: Iterable<unknown> | AsyncIterable<unknown>;
}

/** The only protocol of the parquet response format. */
const PROTOCOL_LINE = { protocol: { minReaderVersion: 1 } };
/** Commit files read at once when following changes. */
const PARALLEL_READS = 16;

/** A file's id: the same for the same file in every answer (clients cache by it), as the reference server makes it. */
export const fileId = (path: string): string => createHash('md5').update(path).digest('hex');

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]00:?00)$/;
/** java.sql.Timestamp's form, `yyyy-[m]m-[d]d hh:mm:ss[.f...]` (at most nanoseconds). */
const LOCAL_FORM = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/;

/**
 * The Timestamp Format, in both forms PROTOCOL.md has defined: today's ISO 8601 in UTC
 * (2022-01-01T00:00:00Z), and the older `yyyy-[m]m-[d]d hh:mm:ss[.f...]`, which "the server will use
 * its local time zone to parse" (older clients still send it), read in this process's zone (TZ).
 */
export function parseTimestamp(name: string, value: string): number {
  const ms = ISO_UTC.test(value) ? Date.parse(value) : localTimestamp(value);
  if (ms === undefined || Number.isNaN(ms)) {
    throw invalidParameter(`${name} ${value.slice(0, 64)} is not a timestamp of the protocol: ISO 8601 in UTC such as 2022-01-01T00:00:00Z, or 2022-01-01 09:00:00 in the server's time zone`);
  }
  return ms;
}

/** The older form in local time; undefined unless every field is in range (no 2022-02-30 rolling into March). */
function localTimestamp(value: string): number | undefined {
  const match = LOCAL_FORM.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const millis = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  const date = new Date(year, month - 1, day, hour, minute, second, millis);
  const exact = date.getFullYear() === year && date.getMonth() === month - 1 && date.getDate() === day && date.getHours() === hour && date.getMinutes() === minute && date.getSeconds() === second;
  return exact ? date.getTime() : undefined;
}

/** `GET …/version`: the latest version, or with startingTimestamp the oldest one committed at or after it. */
export async function tableVersion(source: TableSource, startingTimestamp: string | undefined): Promise<number> {
  const latest = await source.latest();
  if (startingTimestamp === undefined) return latest.version;
  const at = parseTimestamp('startingTimestamp', startingTimestamp);
  const version = versionAtOrAfter(await commitTimes(source.log), at);
  if (version === undefined) throw invalidParameter(`startingTimestamp ${startingTimestamp} is after the latest version (${latest.version}) was committed`);
  return version;
}

/** `GET …/metadata`: protocol and metaData as of the latest version, a `version` or a `timestamp`. */
export async function metadataAnswer(source: TableSource, travel: { version?: number; timestamp?: string }): Promise<Answer> {
  const { snapshot, traveled } = await snapshotFor(source, travel);
  return { version: snapshot.version, lines: [PROTOCOL_LINE, metaDataLine(snapshot, traveled ? snapshot.version : undefined)] };
}

/** `POST …/query`: a snapshot's files, or the changes since startingVersion. */
export async function queryAnswer(tables: SharedTables, table: SharedTable, body: QueryBody, baseUrl: string, maxVersions: number): Promise<Answer> {
  const chosen = (['version', 'timestamp', 'startingVersion'] as const).filter((field) => body[field] !== undefined);
  if (chosen.length > 1) throw invalidParameter(`${chosen.join(' and ')} exclude each other: give at most one`);
  if (body.endingVersion !== undefined && body.startingVersion === undefined) throw invalidParameter('endingVersion needs startingVersion');
  const source = tables.source(table);
  if (body.startingVersion !== undefined) return changesAnswer(tables, table, source, body.startingVersion, body.endingVersion, baseUrl, maxVersions);
  const { snapshot, traveled, committedAt } = await snapshotFor(source, body);
  // Copied before any await: the cached latest snapshot may move on meanwhile. Predicates first, then the limit (PROTOCOL.md).
  const inPartitions = partitionFilter(body.jsonPredicateHints, snapshot.metaData?.partitionColumns ?? []);
  const live = [...snapshot.files.values()];
  const files = limitedByHint(inPartitions === undefined ? live : live.filter((add) => inPartitions(add.partitionValues)), body.limitHint);
  const version = snapshot.version;
  const head = [PROTOCOL_LINE, metaDataLine(snapshot, traveled ? version : undefined)];
  async function* lines(): AsyncGenerator<unknown> {
    yield* head;
    for (const add of files) {
      const link = await tables.link(table, add.path, add.size, baseUrl);
      yield {
        file: {
          url: link.url,
          id: fileId(add.path),
          partitionValues: add.partitionValues,
          size: add.size,
          ...(add.stats === undefined || add.stats === null ? {} : { stats: add.stats }),
          ...(traveled ? { version, timestamp: committedAt } : {}),
          expirationTimestamp: link.expirationTimestamp,
        },
      };
    }
  }
  return { version, lines: lines() };
}

/** The snapshot a request names (latest, `version` or `timestamp`), and when that version was committed if it traveled. */
async function snapshotFor(source: TableSource, travel: { version?: number; timestamp?: string }): Promise<{ snapshot: Snapshot; traveled: boolean; committedAt?: number }> {
  if (travel.version !== undefined && travel.timestamp !== undefined) throw invalidParameter('version and timestamp exclude each other: give at most one');
  if (travel.version !== undefined) {
    const snapshot = await source.at(travel.version);
    return { snapshot, traveled: true, committedAt: timeOf(await commitTimes(source.log), snapshot.version) };
  }
  if (travel.timestamp !== undefined) {
    const at = parseTimestamp('timestamp', travel.timestamp);
    const times = await commitTimes(source.log);
    const version = versionAtOrBefore(times, at);
    if (version === undefined) throw invalidParameter(`timestamp ${travel.timestamp} is before the oldest version the table's log still holds`);
    return { snapshot: await source.at(version), traveled: true, committedAt: timeOf(times, version) };
  }
  return { snapshot: await source.latest(), traveled: false };
}

const timeOf = (times: readonly CommitTime[], version: number): number | undefined => times.find((time) => time.version === version)?.timestamp;

function metaDataLine(snapshot: Snapshot, version: number | undefined): unknown {
  let size = 0;
  for (const add of snapshot.files.values()) size += add.size;
  return { metaData: { ...metaDataFields(snapshot.metaData as MetaDataAction), ...(version === undefined ? {} : { version }), size, numFiles: snapshot.files.size } };
}

function metaDataFields(metaData: MetaDataAction): Record<string, unknown> {
  return {
    id: metaData.id,
    ...(metaData.name === undefined || metaData.name === null ? {} : { name: metaData.name }),
    ...(metaData.description === undefined || metaData.description === null ? {} : { description: metaData.description }),
    format: { provider: metaData.format.provider },
    schemaString: metaData.schemaString,
    partitionColumns: metaData.partitionColumns,
    configuration: metaData.configuration,
  };
}

/**
 * limitHint as a hint: files in order until their rows (per stats) reach it. A file without stats
 * could hold any number of rows, so from there on every file is kept.
 */
export function limitedByHint(files: AddAction[], limitHint: number | undefined): AddAction[] {
  if (limitHint === undefined) return files;
  const kept: AddAction[] = [];
  let rows = 0;
  for (const file of files) {
    if (rows >= limitHint) break;
    kept.push(file);
    const records = recordsOf(file);
    if (records === undefined) return files;
    rows += records;
  }
  return kept;
}

function recordsOf(file: AddAction): number | undefined {
  if (typeof file.stats !== 'string') return undefined;
  try {
    const { numRecords } = JSON.parse(file.stats) as { numRecords?: unknown };
    return typeof numRecords === 'number' ? numRecords : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The data changes of versions startingVersion..endingVersion (at most `maxVersions` of them): add
 * and remove lines of files whose dataChange is true (a compaction's rewrite is no change), and the
 * metaData of versions after the start that changed it. The header names the starting version, and
 * so does the first metaData line (the reference server's answer: the metaData as of that version).
 * Commits are read a few at a time as the lines are sent.
 */
async function changesAnswer(
  tables: SharedTables,
  table: SharedTable,
  source: TableSource,
  start: number,
  ending: number | undefined,
  baseUrl: string,
  maxVersions: number,
): Promise<Answer> {
  const latest = (await source.latest()).version;
  if (start > latest) throw invalidParameter(`startingVersion ${start} is after the latest version ${latest}`);
  if (ending !== undefined && ending < start) throw invalidParameter(`endingVersion ${ending} is before startingVersion ${start}`);
  const end = Math.min(ending ?? latest, latest);
  if (end - start + 1 > maxVersions) {
    throw invalidParameter(`versions ${start} to ${end} are more than ${maxVersions} at once (sharing.maxVersionsPerQuery): ask again with an endingVersion`);
  }
  const times = new Map((await commitTimes(source.log)).map((time) => [time.version, time.timestamp]));
  const head = [PROTOCOL_LINE, metaDataLine(await source.at(start), start)];
  async function* lines(): AsyncGenerator<unknown> {
    yield* head;
    for (let from = start; from <= end; from += PARALLEL_READS) {
      const versions = Array.from({ length: Math.min(PARALLEL_READS, end - from + 1) }, (_, i) => from + i);
      const commits = await Promise.all(versions.map((version) => source.log.readCommit(version)));
      for (const [index, actions] of commits.entries()) {
        const version = versions[index] as number;
        if (actions === undefined) throw invalidParameter(`version ${version} is no longer in the table's log (cleaned up): start from a later version`);
        yield* changeLines(tables, table, source, actions, version, version === start, times.get(version) ?? 0, baseUrl);
      }
    }
  }
  return { version: start, lines: lines() };
}

async function* changeLines(
  tables: SharedTables,
  table: SharedTable,
  source: TableSource,
  actions: Action[],
  version: number,
  isStart: boolean,
  timestamp: number,
  baseUrl: string,
): AsyncGenerator<unknown> {
  for (const action of actions) {
    // As the reference server does: a version whose protocol the reader refuses ends the answer there.
    if ('protocol' in action) source.assertServable(action.protocol);
    if ('metaData' in action && !isStart) {
      yield { metaData: { ...metaDataFields(action.metaData), version } };
      continue;
    }
    const change = 'add' in action ? { kind: 'add', file: action.add } : 'remove' in action ? { kind: 'remove', file: action.remove } : undefined;
    if (change === undefined || !change.file.dataChange) continue;
    const size = change.file.size ?? 0;
    const link = await tables.link(table, change.file.path, size, baseUrl);
    const stats = 'stats' in change.file && typeof change.file.stats === 'string' ? { stats: change.file.stats } : {};
    yield {
      [change.kind]: {
        url: link.url,
        id: fileId(change.file.path),
        partitionValues: change.file.partitionValues ?? {},
        size,
        ...stats,
        timestamp,
        version,
        expirationTimestamp: link.expirationTimestamp,
      },
    };
  }
}
