import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EncoderPool, inlineEncoder } from '../../../../../cloud/lake/parquet/encoder-pool.js';
import { aircon } from '../../../../support/observations.js';

const readings = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    reading: { v: 1 as const, siteId: 's1', seq: i + 1, ...aircon(i % 3, { ts: new Date(Date.UTC(2026, 10, 23 + (i % 2), 0, 0, i % 60)).toISOString() }) },
    position: { partition: 0, offset: String(i) },
  }));

test('the worker pool encodes what the inline encoder does: one file per date, same stats', async () => {
  const pool = new EncoderPool(2);
  try {
    const job = { readings: readings(500) };
    const [fromPool, inline] = await Promise.all([pool.encode(job), inlineEncoder.encode(job)]);
    assert.deepEqual(fromPool.map((f) => [f.partitionValues, f.stats]), inline.map((f) => [f.partitionValues, f.stats]));
    assert.deepEqual(fromPool.map((f) => Buffer.from(f.body).subarray(0, 4).toString()), ['PAR1', 'PAR1']);
    assert.equal(fromPool.length, 2);
  } finally {
    await pool.close();
  }
});

test('a job the worker cannot encode fails with the reason, and the pool goes on', async () => {
  const pool = new EncoderPool(1);
  try {
    const broken = readings(1);
    (broken[0] as { reading: { siteId: unknown } }).reading.siteId = null;
    await assert.rejects(pool.encode({ readings: broken }), /encoding failed: column siteId is not nullable/);
    assert.equal((await pool.encode({ readings: readings(3) })).length, 2, "one file per date");
  } finally {
    await pool.close();
  }
});
