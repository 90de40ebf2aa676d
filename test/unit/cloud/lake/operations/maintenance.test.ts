import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DeltaTable } from '../../../../../cloud/lake/delta/table.js';
import { appendExactlyOnce, txnNames } from '../../../../../cloud/lake/operations/append.js';
import { executeOptimize, planOptimize } from '../../../../../cloud/lake/operations/optimize.js';
import { executeVacuum, planVacuum } from '../../../../../cloud/lake/operations/vacuum.js';
import { decodeColumns } from '../../../../../cloud/lake/parquet/decode.js';
import { inlineEncoder } from '../../../../../cloud/lake/parquet/encoder-pool.js';
import { LocalObjectStore } from '../../../../../cloud/lake/storage/local-store.js';
import { READINGS_TABLE } from '../../../../../cloud/lake/tables/readings.js';
import { dataColumns } from '../../../../../cloud/lake/tables/schema.js';
import { silentLogger } from '../../../../../shared/log.js';
import { aircon } from '../../../../support/observations.js';

const rules = { names: txnNames('app', 'readings'), maxSeqJump: 1000 };
const DAY = 24 * 3_600_000;

async function smallFiles(count: number): Promise<{ root: string; table: DeltaTable }> {
  const root = mkdtempSync(join(tmpdir(), 'echolake-maintenance-'));
  const table = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
  for (let seq = 1; seq <= count; seq += 1) {
    const reading = { v: 1 as const, siteId: 's1', seq, ...aircon(seq % 3, { ts: `2026-11-23T05:00:0${seq % 10}.00000${seq % 10}Z` }) };
    await appendExactlyOnce(table, [{ reading, position: { partition: 0, offset: String(seq) } }], rules, inlineEncoder);
  }
  return { root, table };
}

test('optimize compacts a partition\'s small files into one, rows and microseconds unchanged, with dataChange false', async () => {
  const { root, table } = await smallFiles(6);
  const plan = planOptimize(table, { targetFileBytes: 10_000_000, minFilesToCompact: 4 });
  assert.equal(plan.bins.length, 1);
  assert.equal(plan.bins[0]?.files.length, 6);
  const result = await executeOptimize(table, plan);
  assert.deepEqual([result.filesRemoved, result.filesAdded, result.skipped], [6, 1, 0]);
  const commit = readFileSync(join(root, '_delta_log', `${String(result.version).padStart(20, '0')}.json`), 'utf8');
  const actions = commit.trim().split('\n').map((line) => JSON.parse(line) as { remove?: { dataChange: boolean }; add?: { dataChange: boolean; path: string } });
  assert.ok(actions.filter((a) => a.remove).every((a) => a.remove?.dataChange === false));
  const add = actions.find((a) => a.add)?.add;
  assert.equal(add?.dataChange, false);
  const reopened = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
  assert.equal(reopened.snapshot.files.size, 1);
  const data = await decodeColumns(readFileSync(join(root, add?.path ?? '')), dataColumns(READINGS_TABLE));
  assert.deepEqual(data.columns.seq, [1n, 2n, 3n, 4n, 5n, 6n]);
  assert.equal(data.columns.ts?.[0], 1795410001000001n, 'the microseconds survive the rewrite');
  assert.equal(planOptimize(reopened, { targetFileBytes: 10_000_000, minFilesToCompact: 4 }).bins.length, 0, 'nothing left to do');
});

test('optimize leaves partitions with fewer small files than the minimum alone', async () => {
  const { table } = await smallFiles(3);
  assert.equal(planOptimize(table, { targetFileBytes: 10_000_000, minFilesToCompact: 4 }).bins.length, 0);
});

test('vacuum deletes only unreferenced files older than the retention; the dry run deletes nothing', async () => {
  const { root, table } = await smallFiles(5);
  const plan = planOptimize(table, { targetFileBytes: 10_000_000, minFilesToCompact: 4 });
  const removed = plan.bins[0]?.files.map((file) => file.path) ?? [];
  await executeOptimize(table, plan);
  writeFileSync(join(root, 'date=2026-11-23', 'orphan-of-a-crash.parquet'), 'x');
  assert.equal((await planVacuum(table, 7 * DAY)).doomed.length, 0, 'everything is younger than the retention');
  const later = await planVacuum(table, 7 * DAY, Date.now() + 8 * DAY);
  assert.deepEqual(later.doomed.map((o) => o.key).sort(), [...removed, 'date=2026-11-23/orphan-of-a-crash.parquet'].sort());
  assert.ok(removed.every((path) => existsSync(join(root, path))), 'planning deleted nothing');
  assert.equal(await executeVacuum(table, later), 6);
  assert.ok(removed.every((path) => !existsSync(join(root, path))));
  const reopened = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
  assert.ok([...reopened.snapshot.files.keys()].every((path) => existsSync(join(root, path))), 'every live file is still there');
  assert.ok(existsSync(join(root, '_delta_log', '00000000000000000000.json')));
  await assert.rejects(planVacuum(table, 3_600_000), /below the minimum of 24 hours/);
});
