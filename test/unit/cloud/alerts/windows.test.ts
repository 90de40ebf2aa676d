import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accumulate, aggregate, emptyAccumulator, isBelievable, isLate, revivedAccumulator, siteWatermark, takeClosed, windowAt, windowStarts } from '../../../../cloud/alerts/windows.js';

test('a tumbling window holds a timestamp once; its end belongs to the next one', () => {
  assert.deepEqual(windowStarts(125_000, { sizeMs: 60_000, hopMs: 60_000 }), [120_000]);
  assert.deepEqual(windowStarts(120_000, { sizeMs: 60_000, hopMs: 60_000 }), [120_000]);
  assert.deepEqual(windowStarts(119_999, { sizeMs: 60_000, hopMs: 60_000 }), [60_000]);
});

test('a hopping window: every window of size 60 s starting each 20 s that holds the time, oldest first', () => {
  assert.deepEqual(windowStarts(125_000, { sizeMs: 60_000, hopMs: 20_000 }), [80_000, 100_000, 120_000]);
  assert.deepEqual(windowStarts(120_000, { sizeMs: 60_000, hopMs: 20_000 }), [80_000, 100_000, 120_000]);
  assert.deepEqual(windowStarts(0, { sizeMs: 60_000, hopMs: 20_000 }), [-40_000, -20_000, 0]);
});

test('every aggregate, with values arriving out of order', () => {
  const acc = emptyAccumulator(0);
  accumulate(acc, 3000, 30, null);
  accumulate(acc, 1000, 10, 5);
  accumulate(acc, 2000, 20, null);
  assert.equal(aggregate(acc, 'avg'), 20);
  assert.equal(aggregate(acc, 'min'), 10);
  assert.equal(aggregate(acc, 'max'), 30);
  assert.equal(aggregate(acc, 'sum'), 60);
  assert.equal(aggregate(acc, 'count'), 3);
  assert.equal(aggregate(acc, 'delta'), 20, 'last − first by event time, not by arrival');
  assert.equal(aggregate(acc, 'rate'), 10, '20 over 2 s');
  assert.equal(acc.reference, 5, 'the reference of the only reading that had one');
});

test('an empty window has no aggregate, and one instant has no rate', () => {
  const acc = emptyAccumulator(0);
  assert.equal(aggregate(acc, 'avg'), undefined);
  assert.equal(aggregate(acc, 'count'), undefined);
  accumulate(acc, 1000, 4, null);
  assert.equal(aggregate(acc, 'rate'), undefined);
  assert.equal(aggregate(acc, 'delta'), 0);
});

test('windows stay sorted and close oldest first once end + lateness is reached', () => {
  const windows = [emptyAccumulator(120_000)];
  const created = windowAt(windows, 60_000);
  assert.equal(windows.length, 2, 'created');
  assert.equal(windowAt(windows, 60_000), created, 'found, not created again');
  assert.equal(windows.length, 2);
  assert.deepEqual(windows.map((w) => w.start), [60_000, 120_000]);
  const spec = { sizeMs: 60_000, hopMs: 60_000 };
  assert.deepEqual(takeClosed(windows, spec, 10_000, 129_999), []);
  assert.deepEqual(takeClosed(windows, spec, 10_000, 130_000).map((w) => w.start), [60_000]);
  assert.deepEqual(windows.map((w) => w.start), [120_000]);
});

test('older than the watermark minus the lateness is late', () => {
  assert.equal(isLate(95_000, 100_000, 5000), false);
  assert.equal(isLate(94_999, 100_000, 5000), true);
});

test('a reading time beyond its receipt plus the skew allowance is not believed', () => {
  assert.equal(isBelievable(1_300_000, 1_000_000, 300_000), true, 'exactly at the allowance');
  assert.equal(isBelievable(1_300_001, 1_000_000, 300_000), false);
  assert.equal(isBelievable(Date.UTC(2199, 0, 1), Date.UTC(2026, 0, 1), 300_000), false, 'a gateway clock set to 2199');
  assert.equal(isBelievable(0, 1_000_000, 300_000), true, 'old readings (a backlog sent late) are believed; lateness judges them');
});

test('a site follows its own clock, but never more than the skew allowance behind the partition', () => {
  assert.equal(siteWatermark(955_000, 1_000_000, 300_000), 955_000, 'a site 45 s behind keeps its own time');
  assert.equal(siteWatermark(500_000, 1_000_000, 300_000), 700_000, 'a site further behind (or silent) follows the partition');
  assert.equal(siteWatermark(-Infinity, 1_000_000, 300_000), 700_000, 'a site not heard yet');
});

test('an accumulator read back from JSON gets its empty bounds again', () => {
  const empty = JSON.parse(JSON.stringify({ ...emptyAccumulator(0), seen: 2 })) as ReturnType<typeof emptyAccumulator>;
  const revived = revivedAccumulator(empty);
  accumulate(revived, 10, 7, null);
  assert.equal(aggregate(revived, 'min'), 7);
  assert.equal(aggregate(revived, 'max'), 7);
  assert.equal(revived.seen, 2);
});
