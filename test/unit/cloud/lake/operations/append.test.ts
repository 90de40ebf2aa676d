import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DeltaTable } from '../../../../../cloud/lake/delta/table.js';
import { appendExactlyOnce, txnNames, type PendingMessage } from '../../../../../cloud/lake/operations/append.js';
import { inlineEncoder } from '../../../../../cloud/lake/parquet/encoder-pool.js';
import { LocalObjectStore } from '../../../../../cloud/lake/storage/local-store.js';
import { READINGS_TABLE, type LakeReading } from '../../../../../cloud/lake/tables/readings.js';
import type { Reading } from '../../../../../shared/reading.js';
import { silentLogger } from '../../../../../shared/log.js';
import { aircon } from '../../../../support/observations.js';

interface LogLine {
  commitInfo?: object;
  add?: { path: string; partitionValues: Record<string, string>; stats: string; size: number };
  txn?: { appId: string; version: number };
}

const rules = { names: txnNames('app', 'readings'), maxSeqJump: 1000 };
const freshRoot = () => mkdtempSync(join(tmpdir(), 'echolake-delta-'));
const open = (root: string) => DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
const reading = (seq: number, siteId = 's1', extra: Partial<Reading> = {}): LakeReading => ({ v: 1, siteId, seq, ...aircon(seq % 3), ...extra });
const message = (partition: number, offset: number, r: LakeReading | undefined): PendingMessage => ({
  reading: r,
  position: { partition, offset: String(offset) },
  ...(r === undefined ? { unreadable: { value: Buffer.from('{'), error: 'not JSON' } } : {}),
});
const logLines = (root: string, version: number): LogLine[] =>
  readFileSync(join(root, '_delta_log', `${String(version).padStart(20, '0')}.json`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogLine);

test('a new table starts with protocol (1,2) and the readings schema, partitioned by date', async () => {
  const table = await open(freshRoot());
  const { snapshot } = table;
  assert.equal(snapshot.version, 0);
  assert.deepEqual(snapshot.protocol, { minReaderVersion: 1, minWriterVersion: 2 });
  assert.deepEqual(snapshot.metaData?.partitionColumns, ['date']);
  assert.equal(snapshot.metaData?.configuration['delta.appendOnly'], 'true');
  const fields = (JSON.parse(snapshot.metaData?.schemaString ?? '{}') as { fields: Array<{ name: string; type: string }> }).fields;
  assert.deepEqual(fields.find((f) => f.name === 'ts'), { name: 'ts', type: 'timestamp', nullable: false, metadata: {} });
  assert.deepEqual(fields.find((f) => f.name === 'epoch'), { name: 'epoch', type: 'string', nullable: true, metadata: {} });
});

test('an append writes a parquet file per date, stats, and the txns in one commit', async () => {
  const root = freshRoot();
  const table = await open(root);
  const pending = [message(0, 10, reading(1)), message(0, 11, reading(2, 's1', { ts: '2026-11-23T05:00:02.123456Z' })), message(1, 4, reading(3, 's2'))];
  const result = await appendExactlyOnce(table, pending, rules, inlineEncoder);
  assert.deepEqual([result.version, result.files, result.rows], [1, 1, 3]);
  const lines = logLines(root, 1);
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
  assert.equal(stats.maxValues.ts, '2026-11-23T05:00:02.124Z', 'the maximum is rounded up to the millisecond');
  assert.equal(stats.nullCount.humidity, 3);
  assert.equal(stats.nullCount.epoch, 3);
  assert.equal(readFileSync(join(root, add.path)).length, add.size);
  assert.equal(readFileSync(join(root, add.path)).subarray(0, 4).toString(), 'PAR1');
  const txns = Object.fromEntries(lines.flatMap((l) => (l.txn ? [[l.txn.appId, l.txn.version] as const] : [])));
  assert.deepEqual(txns, { 'app-readings-0': 11, 'app-readings-0-site-s1': 2, 'app-readings-1': 4, 'app-readings-1-site-s2': 3 });
});

test('offsets and seqs the table already holds are dropped; unreadable messages are refused but advance the offset', async () => {
  const root = freshRoot();
  const table = await open(root);
  await appendExactlyOnce(table, [message(0, 0, reading(1)), message(0, 1, reading(2))], rules, inlineEncoder);
  const replay = [
    message(0, 1, reading(2)), // re-read after a restart: offset already committed
    message(0, 2, reading(1)), // the site resent the batch 1-2: seqs already committed
    message(0, 3, reading(2)),
    message(0, 4, undefined), // unreadable
    message(0, 5, reading(3)),
  ];
  const result = await appendExactlyOnce(table, replay, rules, inlineEncoder);
  assert.equal(result.rows, 1);
  assert.deepEqual(result.plan.duplicates, [{ siteId: 's1', seq: 1 }, { siteId: 's1', seq: 2 }]);
  assert.deepEqual(result.plan.refused.map((r) => [r.position.offset, r.reason]), [['4', 'unreadable: not JSON']]);
  const reopened = await open(root);
  assert.equal(reopened.snapshot.txns.get('app-readings-0'), 5);
  assert.equal(reopened.snapshot.txns.get('app-readings-0-site-s1'), 3);
});

test('a new edge database (new epoch) starts a new seq stream: its low seqs are not taken for copies', async () => {
  const table = await open(freshRoot());
  await appendExactlyOnce(table, [message(0, 0, reading(500, 's1', { epoch: 'aaaaaaaaaaaaaaaa' }))], rules, inlineEncoder);
  const result = await appendExactlyOnce(table, [message(0, 1, reading(1, 's1', { epoch: 'bbbbbbbbbbbbbbbb' })), message(0, 2, reading(500, 's1', { epoch: 'aaaaaaaaaaaaaaaa' }))], rules, inlineEncoder);
  assert.equal(result.rows, 1, 'seq 1 of the new epoch is kept');
  assert.deepEqual(result.plan.duplicates, [{ siteId: 's1', seq: 500 }], 'the old epoch still drops its resends');
});

test('a seq far beyond the site\'s last is refused and never becomes the high mark', async () => {
  const table = await open(freshRoot());
  await appendExactlyOnce(table, [message(0, 0, reading(10))], rules, inlineEncoder);
  const result = await appendExactlyOnce(table, [message(0, 1, reading(10 + 1_000_000)), message(0, 2, reading(11)), message(0, 3, reading(12))], rules, inlineEncoder);
  assert.equal(result.rows, 2, 'the genuine readings after the bad one still land');
  assert.match(result.plan.refused[0]?.reason ?? '', /seq 1000010 jumps more than 1000 past the last seq 10/);
  assert.equal(table.snapshot.txns.get('app-readings-0-site-s1'), 12);
});

test('a jump is measured from the site\'s highest seq in any partition, so a fresh partition cannot take it either', async () => {
  const table = await open(freshRoot());
  await appendExactlyOnce(table, [message(0, 0, reading(10))], rules, inlineEncoder);
  const result = await appendExactlyOnce(table, [message(1, 0, reading(10 + 5000)), message(1, 1, reading(11))], rules, inlineEncoder);
  assert.equal(result.rows, 1);
  assert.equal(result.plan.refused.length, 1);
  assert.equal(table.snapshot.txns.get('app-readings-1-site-s1'), 11);
});

test('two writers racing for one version: one wins, the other replans, drops the copy and leaves no orphan file', async () => {
  const root = freshRoot();
  const [a, b] = await Promise.all([open(root), open(root)]);
  const pending = [message(0, 0, reading(1))];
  const results = await Promise.all([appendExactlyOnce(a, pending, rules, inlineEncoder), appendExactlyOnce(b, pending, rules, inlineEncoder)]);
  assert.deepEqual(results.map((r) => r.rows).sort(), [0, 1], 'the loser saw the offset committed and added nothing');
  assert.deepEqual(results.map((r) => r.version), [1, 1], 'not even an empty version');
  assert.deepEqual(readdirSync(join(root, '_delta_log')).sort(), ['00000000000000000000.json', '00000000000000000001.json'], 'no temp files left, no empty commit');
  assert.equal(readdirSync(join(root, 'date=2026-11-23')).length, 1, 'the loser deleted the file of its stale plan');
});

test('racing writers on different partitions both commit, at consecutive versions', async () => {
  const root = freshRoot();
  const [a, b] = await Promise.all([open(root), open(root)]);
  const results = await Promise.all([appendExactlyOnce(a, [message(0, 0, reading(1))], rules, inlineEncoder), appendExactlyOnce(b, [message(1, 0, reading(1, 's2'))], rules, inlineEncoder)]);
  assert.deepEqual(results.map((r) => r.version).sort(), [1, 2]);
  const reopened = await open(root);
  assert.equal(reopened.snapshot.files.size, 2);
});
