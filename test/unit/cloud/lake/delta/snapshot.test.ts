import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LogStore } from '../../../../../cloud/lake/delta/log-store.js';
import { Snapshot } from '../../../../../cloud/lake/delta/snapshot.js';
import { DeltaTable } from '../../../../../cloud/lake/delta/table.js';
import { appendExactlyOnce, txnNames } from '../../../../../cloud/lake/operations/append.js';
import { checkpoint, cleanUpExpiredLogs } from '../../../../../cloud/lake/operations/checkpoint.js';
import { inlineEncoder } from '../../../../../cloud/lake/parquet/encoder-pool.js';
import { LocalObjectStore } from '../../../../../cloud/lake/storage/local-store.js';
import { READINGS_TABLE } from '../../../../../cloud/lake/tables/readings.js';
import { silentLogger } from '../../../../../shared/log.js';
import { aircon } from '../../../../support/observations.js';

const rules = { names: txnNames('app', 'readings'), maxSeqJump: 1000 };
const logFile = (root: string, name: string) => join(root, '_delta_log', name);
const pad = (version: number) => String(version).padStart(20, '0');

/** A table with `commits` appends (one reading each) after version 0, and a checkpoint at `checkpointAt`. */
async function tableWith(commits: number, checkpointAt?: number): Promise<{ root: string; table: DeltaTable }> {
  const root = mkdtempSync(join(tmpdir(), 'echolake-snapshot-'));
  const table = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
  for (let seq = 1; seq <= commits; seq += 1) {
    await appendExactlyOnce(table, [{ reading: { v: 1, siteId: 's1', seq, ...aircon(0) }, position: { partition: 0, offset: String(seq) } }], rules, inlineEncoder);
    if (table.snapshot.version === checkpointAt) await checkpoint(table);
  }
  return { root, table };
}

const load = async (root: string) => {
  const snapshot = await Snapshot.load(new LogStore(new LocalObjectStore(root)));
  assert.ok(snapshot);
  return snapshot;
};

test('a snapshot starts from the newest checkpoint and replays only the commits after it', async () => {
  const { root, table } = await tableWith(14, 10);
  const snapshot = await load(root);
  assert.equal(snapshot.version, 14);
  assert.equal(snapshot.checkpointVersion, 10);
  assert.equal(snapshot.files.size, 14);
  assert.equal(snapshot.txns.get('app-readings-0'), 14);
  assert.deepEqual([...snapshot.files.keys()].sort(), [...table.snapshot.files.keys()].sort());
  const { id, schemaString, partitionColumns, configuration, format } = table.snapshot.metaData ?? {};
  assert.deepEqual({ ...snapshot.metaData, name: undefined, description: undefined }, { id, schemaString, partitionColumns, configuration, format, createdTime: table.snapshot.metaData?.createdTime, name: undefined, description: undefined });
  assert.deepEqual([snapshot.protocol?.minReaderVersion, snapshot.protocol?.minWriterVersion], [1, 2]);
});

test('commits before the checkpoint may be gone (a log cleanup by another writer)', async () => {
  const { root } = await tableWith(12, 10);
  for (let version = 0; version < 10; version += 1) rmSync(logFile(root, `${pad(version)}.json`));
  const snapshot = await load(root);
  assert.equal(snapshot.version, 12);
  assert.equal(snapshot.files.size, 12);
});

test('a corrupt or missing _last_checkpoint, or one naming a deleted checkpoint, still gives the same snapshot', async () => {
  const { root } = await tableWith(12, 10);
  const expected = await load(root);
  for (const hint of ['{"version":1', 'null', '{"version":30,"size":3}', undefined]) {
    if (hint === undefined) rmSync(logFile(root, '_last_checkpoint'));
    else writeFileSync(logFile(root, '_last_checkpoint'), hint);
    const snapshot = await load(root);
    assert.equal(snapshot.version, 12, `with _last_checkpoint ${hint ?? 'missing'}`);
    assert.deepEqual([...snapshot.files.keys()].sort(), [...expected.files.keys()].sort());
  }
});

test('a torn checkpoint is skipped for the commits from version 0', async () => {
  const { root } = await tableWith(11, 10);
  writeFileSync(logFile(root, `${pad(10)}.checkpoint.parquet`), 'PAR1 torn');
  const snapshot = await load(root);
  assert.equal(snapshot.version, 11);
  assert.equal(snapshot.checkpointVersion, -1);
  assert.equal(snapshot.files.size, 11);
});

test('a gap in the log is refused, naming the missing version', async () => {
  const { root } = await tableWith(4);
  rmSync(logFile(root, `${pad(2)}.json`));
  await assert.rejects(load(root), /not contiguous: commit 2 is missing \(no checkpoint before it, latest version 4\)/);
  const after = await tableWith(13, 10);
  rmSync(logFile(after.root, `${pad(12)}.json`));
  await assert.rejects(load(after.root), /not contiguous: commit 12 is missing but a later one is there/);
});

test('an empty folder is no table; a log without protocol is refused', async () => {
  const root = mkdtempSync(join(tmpdir(), 'echolake-snapshot-'));
  assert.equal(await Snapshot.load(new LogStore(new LocalObjectStore(root))), undefined);
  await new LocalObjectStore(root).put(`_delta_log/${pad(0)}.json`, Buffer.from('{"commitInfo":{}}\n'));
  await assert.rejects(load(root), /has no protocol action as of version 0/);
});

test('update reads only what other writers committed since', async () => {
  const { root, table } = await tableWith(2);
  const other = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'other');
  await appendExactlyOnce(other, [{ reading: { v: 1, siteId: 's2', seq: 1, ...aircon(1) }, position: { partition: 1, offset: '0' } }], rules, inlineEncoder);
  const commits = await table.refresh();
  assert.equal(commits.length, 1);
  assert.equal(table.snapshot.version, 3);
  assert.equal(table.snapshot.txns.get('app-readings-1'), 0);
});

test('log cleanup removes only expired files below a checkpoint, and the table still opens', async () => {
  const { root, table } = await tableWith(13, 10);
  const old = new Date(Date.now() - 40 * 24 * 3600 * 1000);
  for (let version = 0; version <= 11; version += 1) utimesSync(logFile(root, `${pad(version)}.json`), old, old);
  const removed = await cleanUpExpiredLogs(table);
  assert.equal(removed, 10);
  const names = readdirSync(join(root, '_delta_log')).filter((n) => !n.startsWith('.')).sort();
  assert.deepEqual(names, [`${pad(10)}.checkpoint.parquet`, `${pad(10)}.json`, `${pad(11)}.json`, `${pad(12)}.json`, `${pad(13)}.json`, '_last_checkpoint']);
  const snapshot = await load(root);
  assert.equal(snapshot.version, 13);
  assert.equal(snapshot.files.size, 13);
});

test('loadAt gives the table as of an older version, from the newest checkpoint at or before it', async () => {
  const { root } = await tableWith(14, 10);
  const log = new LogStore(new LocalObjectStore(root));
  const at5 = await Snapshot.loadAt(log, 5);
  assert.equal(at5?.version, 5);
  assert.equal(at5?.files.size, 5);
  assert.equal(at5?.checkpointVersion, -1);
  const at12 = await Snapshot.loadAt(log, 12);
  assert.equal(at12?.version, 12);
  assert.equal(at12?.files.size, 12);
  assert.equal(at12?.checkpointVersion, 10);
  assert.equal(await Snapshot.loadAt(log, 15), undefined, 'a version the table does not have yet');
  for (let version = 0; version < 10; version += 1) rmSync(logFile(root, `${pad(version)}.json`));
  await assert.rejects(Snapshot.loadAt(log, 5), /version 5 of .* can no longer be read: its log was cleaned up/);
  assert.equal((await Snapshot.loadAt(log, 11))?.files.size, 11);
});
