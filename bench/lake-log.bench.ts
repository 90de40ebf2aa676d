// `npm run bench lake-log`: the Delta log at an age of 100,000 commits (12 days of the old 10 s
// commits), checkpointed every 10 versions as the lake does: how long opening the table takes, and
// how long a commit's log work takes (the put-if-absent of the commit and, every tenth, the
// checkpoint of all live files), on a local folder. The table is made directly (commits of one
// add and one txn each, no data files: the log's work does not read them).
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeCommit, type Action } from '../cloud/lake/delta/actions.js';
import { writeCheckpoint } from '../cloud/lake/delta/checkpoint-file.js';
import { DeltaTable } from '../cloud/lake/delta/table.js';
import { checkpoint, checkpointActions } from '../cloud/lake/operations/checkpoint.js';
import { LocalObjectStore } from '../cloud/lake/storage/local-store.js';
import { READINGS_TABLE } from '../cloud/lake/tables/readings.js';
import { silentLogger } from '../shared/log.js';
import { machineLine } from './support/proc.js';
import { mib, num, percentile, runBenchmark, table } from './support/report.js';

const COMMITS = Number(process.env.ECHOLAKE_BENCH_COMMITS ?? 100_000);
/** Live files the table keeps: optimize compacts the rest (a table without it keeps one per commit). */
const LIVE_FILES = Number(process.env.ECHOLAKE_BENCH_LIVE_FILES ?? 5_000);
const MEASURED_COMMITS = 200;
const pad = (version: number): string => String(version).padStart(20, '0');

function addOf(version: number): Action {
  const stats = JSON.stringify({ numRecords: 5000, minValues: { seq: version * 5000 }, maxValues: { seq: version * 5000 + 4999 }, nullCount: {} });
  return { add: { path: `date=2026-11-23/part-00000-${version}-c000.snappy.parquet`, partitionValues: { date: '2026-11-23' }, size: 40_000_000, modificationTime: version, dataChange: true, stats } };
}

/** A table of COMMITS versions written straight to files, with a checkpoint five versions before the end and its hint. */
async function makeTable(root: string): Promise<void> {
  const table = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'bench');
  const snapshot = table.snapshot;
  const log = join(root, '_delta_log');
  mkdirSync(log, { recursive: true });
  const checkpointAt = COMMITS - 6;
  for (let version = 1; version < COMMITS; version += 1) {
    const actions: Action[] = [addOf(version), { txn: { appId: 'bench-readings-0', version: version * 5000 } }];
    // Optimize keeps the live file count flat: older files are removed as newer ones come.
    if (version > LIVE_FILES) actions.push({ remove: { path: `date=2026-11-23/part-00000-${version - LIVE_FILES}-c000.snappy.parquet`, deletionTimestamp: version, dataChange: false } });
    writeFileSync(join(log, `${pad(version)}.json`), serializeCommit([{ commitInfo: { timestamp: version } }, ...actions]));
    snapshot.apply(version, actions);
    if (version === checkpointAt) {
      const body = writeCheckpoint(checkpointActions(snapshot, Date.now()));
      writeFileSync(join(log, `${pad(version)}.checkpoint.parquet`), body);
      writeFileSync(join(log, '_last_checkpoint'), JSON.stringify({ version, size: snapshot.files.size + snapshot.txns.size + 2 }));
    }
  }
}

async function main(): Promise<number> {
  console.log(machineLine());
  const root = mkdtempSync(join(tmpdir(), 'echolake-bench-log-'));
  const made = performance.now();
  await makeTable(root);
  console.log(`made a table of ${COMMITS.toLocaleString('en')} commits (${LIVE_FILES.toLocaleString('en')} live files) in ${num((performance.now() - made) / 1000, 1)} s`);
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const opened = performance.now();
  const opening = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'bench');
  const openMs = performance.now() - opened;
  const rssOpen = process.memoryUsage().rss;
  const commitMs: number[] = [];
  const checkpointMs: number[] = [];
  for (let i = 0; i < MEASURED_COMMITS; i += 1) {
    const version = opening.snapshot.version + 1;
    const started = performance.now();
    await opening.commit([addOf(version), { txn: { appId: 'bench-readings-0', version: version * 5000 } }], { operation: 'STREAMING UPDATE' }, { txnAppIds: ['bench-readings-0'] });
    commitMs.push(performance.now() - started);
    if (opening.snapshot.version % 10 === 0) {
      const cp = performance.now();
      await checkpoint(opening);
      checkpointMs.push(performance.now() - cp);
    }
  }
  console.log(`\nlocal folder, ${opening.snapshot.files.size.toLocaleString('en')} live files, then ${MEASURED_COMMITS} commits:\n`);
  console.log(
    table(
      ['what', 'median ms', 'p95 ms', 'max ms'],
      [
        ['open (hint, listing, checkpoint, later commits)', num(openMs, 0), '', ''],
        ['commit log work (put-if-absent)', num(percentile(commitMs, 50), 1), num(percentile(commitMs, 95), 1), num(Math.max(...commitMs), 1)],
        ['checkpoint every 10th (all live files)', num(percentile(checkpointMs, 50), 0), num(percentile(checkpointMs, 95), 0), num(Math.max(...checkpointMs), 0)],
      ],
    ),
  );
  console.log(`\nRSS ${num(mib(rssBefore), 0)} MiB before opening, ${num(mib(rssOpen), 0)} MiB after, ${num(mib(process.memoryUsage().rss), 0)} MiB at the end`);
  return 0;
}

runBenchmark('lake-log', main);
