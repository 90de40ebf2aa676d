import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DeltaLog } from '../../cloud/lake/delta-log.js';
import { DeltaTable } from '../../cloud/lake/delta-table.js';
import { planExactlyOnce, txnNames, type PendingMessage } from '../../cloud/lake/exactly-once.js';
import { LocalObjectStore } from '../../cloud/lake/object-store.js';
import { READINGS_TABLE } from '../../cloud/lake/readings-table.js';
import { silentLogger } from '../../shared/log.js';
import type { Reading } from '../../shared/reading.js';
import { aircon } from '../support/observations.js';

interface LogLine {
  commitInfo?: object;
  add?: { path: string; partitionValues: Record<string, string>; stats: string; size: number };
  txn?: { appId: string; version: number };
}

const names = txnNames('app', 'readings');
const tableAt = (root: string) => new DeltaTable(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
const freshRoot = () => mkdtempSync(join(tmpdir(), 'echolake-delta-'));
const reading = (seq: number, siteId = 's1'): Reading => ({ v: 1, siteId, seq, ...aircon(seq % 3) });
const message = (partition: number, offset: number, r: Reading | undefined): PendingMessage => ({ reading: r, position: { partition, offset: String(offset) } });

test('a new table starts with protocol (1,2) and the readings schema, partitioned by date', async () => {
  const root = freshRoot();
  const snapshot = await tableAt(root).open();
  assert.equal(snapshot.version, 0);
  assert.deepEqual(snapshot.protocol, { minReaderVersion: 1, minWriterVersion: 2 });
  assert.deepEqual(snapshot.metaData.partitionColumns, ['date']);
  assert.equal(snapshot.metaData.configuration['delta.appendOnly'], 'true');
  const fields = (JSON.parse(snapshot.metaData.schemaString) as { fields: Array<{ name: string; type: string }> }).fields;
  assert.deepEqual(fields.find((f) => f.name === 'ts'), { name: 'ts', type: 'timestamp', nullable: false, metadata: {} });
});

test('an append writes a parquet file per date, stats, and the txns in one commit', async () => {
  const root = freshRoot();
  const table = tableAt(root);
  const pending = [message(0, 10, reading(1)), message(0, 11, reading(2)), message(1, 4, reading(3, 's2'))];
  const result = await table.append((snapshot) => planExactlyOnce(snapshot, pending, names));
  assert.deepEqual(result, { version: 1, files: 1, rows: 3 });
  const lines = readFileSync(join(root, '_delta_log', '00000000000000000001.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogLine);
  assert.ok('commitInfo' in (lines[0] ?? {}), 'commitInfo comes first');
  const add = lines.find((l) => l.add !== undefined)?.add;
  assert.ok(add);
  assert.match(add.path, /^date=2026-11-23\/part-00000-[0-9a-f-]{36}-c000\.snappy\.parquet$/);
  assert.deepEqual(add.partitionValues, { date: '2026-11-23' });
  const stats = JSON.parse(add.stats) as { numRecords: number; minValues: Record<string, unknown>; maxValues: Record<string, unknown>; nullCount: Record<string, number> };
  assert.equal(stats.numRecords, 3);
  assert.equal(stats.minValues.seq, 1);
  assert.equal(stats.maxValues.seq, 3);
  assert.equal(stats.minValues.ts, '2026-11-23T05:00:00.000Z');
  assert.equal(stats.nullCount.humidity, 3);
  assert.equal(readFileSync(join(root, add.path)).length, add.size);
  assert.equal(readFileSync(join(root, add.path)).subarray(0, 4).toString(), 'PAR1');
  const txns = new Map(lines.flatMap((l) => (l.txn ? [[l.txn.appId, l.txn.version] as const] : [])));
  assert.deepEqual(Object.fromEntries(txns), {
    'app-readings-0': 11,
    'app-readings-0-site-s1': 2,
    'app-readings-1': 4,
    'app-readings-1-site-s2': 3,
  });
});

test('offsets and seqs the table already holds are dropped; unreadable messages still advance the offset', async () => {
  const table = tableAt(freshRoot());
  await table.append((snapshot) => planExactlyOnce(snapshot, [message(0, 0, reading(1)), message(0, 1, reading(2))], names));
  const replay = [
    message(0, 1, reading(2)), // re-read after a restart: offset already committed
    message(0, 2, reading(1)), // the site resent the batch 1-2: seqs already committed
    message(0, 3, reading(2)),
    message(0, 4, undefined), // unreadable
    message(0, 5, reading(3)),
  ];
  let plan: ReturnType<typeof planExactlyOnce> | undefined;
  const result = await table.append((snapshot) => (plan = planExactlyOnce(snapshot, replay, names)));
  assert.equal(result.rows, 1);
  assert.deepEqual(plan?.duplicates, [{ siteId: 's1', seq: 1 }, { siteId: 's1', seq: 2 }]);
  const snapshot = await new DeltaLog(new LocalObjectStore(table['store'].location)).snapshot();
  assert.equal(snapshot?.txns.get('app-readings-0'), 5);
  assert.equal(snapshot?.txns.get('app-readings-0-site-s1'), 3);
});

test('two writers racing for one version: one wins, the other replans on the new snapshot', async () => {
  const root = freshRoot();
  await tableAt(root).open();
  const pending = [message(0, 0, reading(1))];
  const results = await Promise.all([
    tableAt(root).append((snapshot) => planExactlyOnce(snapshot, pending, names)),
    tableAt(root).append((snapshot) => planExactlyOnce(snapshot, pending, names)),
  ]);
  assert.deepEqual(results.map((r) => r.rows).sort(), [0, 1], 'the loser saw the offset committed and added nothing');
  assert.deepEqual(results.map((r) => r.version), [1, 1], 'not even an empty version');
  const log = readdirSync(join(root, '_delta_log'));
  assert.deepEqual(log.sort(), ['00000000000000000000.json', '00000000000000000001.json'], 'no temp files left, no empty commit');
});

test('a log with a gap is refused', async () => {
  const root = freshRoot();
  const table = tableAt(root);
  await table.open();
  const store = new LocalObjectStore(root);
  await store.putIfAbsent('_delta_log/00000000000000000002.json', Buffer.from('{"commitInfo":{}}\n'));
  await assert.rejects(new DeltaLog(store).snapshot(), /not contiguous: expected version 1, found 2/);
});
