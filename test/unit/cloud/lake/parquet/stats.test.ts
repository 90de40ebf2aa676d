import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileStats } from '../../../../../cloud/lake/parquet/stats.js';
import { timestampMicros } from '../../../../../cloud/lake/tables/readings.js';

test('timestamps keep their microseconds; stats bound them at millisecond precision', () => {
  const values = ['2026-01-01T00:00:00.000999Z', '2026-01-01T00:00:01.123456789Z', '1970-01-01T00:00:00Z'].map(timestampMicros);
  assert.deepEqual(values, [1767225600000999n, 1767225601123456n, 0n]);
  const stats = fileStats([{ name: 'ts', type: 'timestamp', nullable: true, minMax: true }], { ts: [...values, null] }, 4);
  assert.deepEqual(stats, { numRecords: 4, minValues: { ts: '1970-01-01T00:00:00.000Z' }, maxValues: { ts: '2026-01-01T00:00:01.124Z' }, nullCount: { ts: 1 } });
});

test('long strings keep a truncated minimum and no maximum; booleans and free text only count nulls', () => {
  const long = 'x'.repeat(40);
  const stats = fileStats(
    [
      { name: 's', type: 'string', nullable: false, minMax: true },
      { name: 'b', type: 'boolean', nullable: true, minMax: false },
      { name: 'n', type: 'long', nullable: false, minMax: true },
    ],
    { s: [long, 'y'], b: [true, null], n: [5_000_000_001n, 2n] },
    2,
  );
  assert.deepEqual(stats, { numRecords: 2, minValues: { s: 'x'.repeat(32), n: 2 }, maxValues: { n: 5_000_000_001 }, nullCount: { s: 0, b: 1, n: 0 } });
});
