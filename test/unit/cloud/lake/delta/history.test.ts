import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commitTimesOf, versionAtOrAfter, versionAtOrBefore } from '../../../../../cloud/lake/delta/history.js';
import type { LogListing } from '../../../../../cloud/lake/delta/log-store.js';

const listing = (times: Array<[number, number]>): LogListing => ({
  commits: new Map(times.map(([version, lastModified]) => [version, { key: `_delta_log/${version}.json`, size: 1, lastModified }])),
  checkpoints: [],
  latest: Math.max(...times.map(([version]) => version)),
});

test('commit times come in version order and are made strictly increasing', () => {
  const times = commitTimesOf(listing([[2, 1500.7], [0, 1000], [1, 2000], [3, 1999]]));
  assert.deepEqual(times, [
    { version: 0, timestamp: 1000 },
    { version: 1, timestamp: 2000 },
    { version: 2, timestamp: 2001 },
    { version: 3, timestamp: 2002 },
  ]);
});

test('a timestamp maps to the newest version at or before it, or the oldest at or after it', () => {
  const times = commitTimesOf(listing([[5, 1000], [6, 2000], [7, 3000]]));
  assert.equal(versionAtOrBefore(times, 999), undefined);
  assert.equal(versionAtOrBefore(times, 1000), 5);
  assert.equal(versionAtOrBefore(times, 2999), 6);
  assert.equal(versionAtOrBefore(times, 9999), 7);
  assert.equal(versionAtOrAfter(times, 0), 5, 'before the oldest commit: the oldest version');
  assert.equal(versionAtOrAfter(times, 1001), 6);
  assert.equal(versionAtOrAfter(times, 3000), 7);
  assert.equal(versionAtOrAfter(times, 3001), undefined);
});
