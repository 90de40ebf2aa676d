import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runLakeCommand } from '../../../../cloud/lake/commands.js';
import { DeltaTable } from '../../../../cloud/lake/delta/table.js';
import { appendExactlyOnce, txnNames } from '../../../../cloud/lake/operations/append.js';
import { inlineEncoder } from '../../../../cloud/lake/parquet/encoder-pool.js';
import { LocalObjectStore } from '../../../../cloud/lake/storage/local-store.js';
import { READINGS_TABLE } from '../../../../cloud/lake/tables/readings.js';
import { silentLogger } from '../../../../shared/log.js';
import { aircon } from '../../../support/observations.js';

test('lake optimize: the dry run prints the plan and changes nothing; the real run compacts', async () => {
  const lakeRoot = mkdtempSync(join(tmpdir(), 'echolake-lake-command-'));
  const table = await DeltaTable.open(new LocalObjectStore(join(lakeRoot, 'readings')), READINGS_TABLE, silentLogger(), 'test');
  for (let seq = 1; seq <= 5; seq += 1) {
    await appendExactlyOnce(table, [{ reading: { v: 1, siteId: 's1', seq, ...aircon(0) }, position: { partition: 0, offset: String(seq) } }], { names: txnNames('a', 't'), maxSeqJump: 10 }, inlineEncoder);
  }
  const lines: Array<Record<string, unknown>> = [];
  const print = (line: object): void => void lines.push(line as Record<string, unknown>);
  const args = ['--set', `lake.root=${lakeRoot}`];
  await runLakeCommand(['optimize', '--dry-run', ...args], print);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.plan, 'optimize');
  assert.equal(lines[0]?.version, 5);
  assert.deepEqual((lines[0]?.bins as Array<{ partition: object; files: number }>).map((bin) => [bin.partition, bin.files]), [[{ date: '2026-11-23' }, 5]]);
  await table.refresh();
  assert.equal(table.snapshot.files.size, 5, 'a dry run changes nothing');
  lines.length = 0;
  await runLakeCommand(['optimize', ...args], print);
  assert.equal(lines[1]?.filesRemoved, 5);
  await table.refresh();
  assert.equal(table.snapshot.files.size, 1);
  lines.length = 0;
  await runLakeCommand(['vacuum', '--dry-run', '--retention-hours', '24', ...args], print);
  assert.equal(lines[0]?.files, 0, 'the removed files are younger than the retention');
  await assert.rejects(runLakeCommand(['vacuum', '--retention-hours', '1', ...args]), /below the minimum of 24 hours/);
  await assert.rejects(runLakeCommand(['shrink', ...args]), /lake needs optimize or vacuum/);
  await assert.rejects(runLakeCommand(['optimize', '--table', 'sensors', ...args]), /the lake's tables are readings, dead_letters, alerts/);
});
