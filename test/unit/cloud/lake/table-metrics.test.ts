import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { DeltaTable } from '../../../../cloud/lake/delta/table.js';
import type { Snapshot } from '../../../../cloud/lake/delta/snapshot.js';
import { registerTableMetrics, tableSize } from '../../../../cloud/lake/table-metrics.js';

const snapshot = (version: number, sizes: number[]) =>
  ({ version, files: new Map(sizes.map((size, i) => [`part-${i}.parquet`, { path: `part-${i}.parquet`, size }])) }) as unknown as Snapshot;

test('a table\'s size: the sum of its live files\' sizes at its version', () => {
  assert.deepEqual(tableSize(snapshot(7, [100, 250, 50])), { version: 7, files: 3, bytes: 400 });
  assert.deepEqual(tableSize(snapshot(0, [])), { version: 0, files: 0, bytes: 0 });
});

test('the gauges follow the open tables when scraped', async () => {
  const metrics = new Registry();
  let tables: DeltaTable[] = [];
  registerTableMetrics(metrics, () => tables);
  tables = [{ definition: { name: 'readings' }, snapshot: snapshot(3, [10, 20]) } as unknown as DeltaTable];
  const text = await metrics.metrics();
  assert.match(text, /echolake_lake_table_version\{table="readings"\} 3/);
  assert.match(text, /echolake_lake_table_bytes\{table="readings"\} 30/);
  assert.match(text, /echolake_lake_table_files\{table="readings"\} 2/);
  tables = [];
  assert.doesNotMatch(await metrics.metrics(), /table="readings"/, 'a table no longer open leaves the metrics');
});
