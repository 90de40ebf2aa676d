import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AddAction } from '../../../../cloud/lake/delta/actions.js';
import { SharingError } from '../../../../cloud/sharing/errors.js';
import { fileId, limitedByHint, parseTimestamp } from '../../../../cloud/sharing/query.js';

const add = (path: string, numRecords?: number): AddAction => ({
  path,
  partitionValues: {},
  size: 1,
  modificationTime: 0,
  dataChange: true,
  stats: numRecords === undefined ? undefined : JSON.stringify({ numRecords }),
});

test('limitHint keeps files until their rows reach it; a file without stats keeps everything', () => {
  const files = [add('a', 10), add('b', 10), add('c', 10)];
  assert.deepEqual(limitedByHint(files, undefined), files);
  assert.deepEqual(limitedByHint(files, 0).map((f) => f.path), []);
  assert.deepEqual(limitedByHint(files, 10).map((f) => f.path), ['a']);
  assert.deepEqual(limitedByHint(files, 11).map((f) => f.path), ['a', 'b']);
  assert.deepEqual(limitedByHint([add('a', 1), add('x'), add('b', 1)], 2).map((f) => f.path), ['a', 'x', 'b']);
});

test('timestamps must be ISO 8601 in UTC; anything else is a 400 naming the parameter', () => {
  assert.equal(parseTimestamp('timestamp', '2022-01-01T00:00:00Z'), Date.UTC(2022, 0, 1));
  assert.equal(parseTimestamp('timestamp', '2022-01-01T00:00:00.250Z'), Date.UTC(2022, 0, 1) + 250);
  for (const bad of ['2022-01-01', 'yesterday', '2022-01-01T00:00:00+09:00', '2022-13-01T00:00:00Z']) {
    assert.throws(() => parseTimestamp('startingTimestamp', bad), (err: unknown) => err instanceof SharingError && err.statusCode === 400 && err.message.startsWith('startingTimestamp'), bad);
  }
});

test('a file id depends on its path only', () => {
  assert.equal(fileId('date=2026-11-23/a.parquet'), fileId('date=2026-11-23/a.parquet'));
  assert.notEqual(fileId('date=2026-11-23/a.parquet'), fileId('date=2026-11-23/b.parquet'));
  assert.match(fileId('x'), /^[0-9a-f]{32}$/);
});
