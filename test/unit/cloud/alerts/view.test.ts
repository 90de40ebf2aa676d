import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert } from '../../../../cloud/alerts/alert.js';
import { AlertView } from '../../../../cloud/alerts/view.js';

function alert(id: string, state: Alert['state'], siteId = 'osaka'): Alert {
  return {
    v: 1, id: id.padStart(32, '0'), state, rule: 'aircon-fault', ruleType: 'instant', severity: 'critical', summary: 'fault', scope: 'device',
    siteId, deviceId: 'dev-1', site: { name: siteId, timeZone: 'UTC', location: null }, cause: 'condition',
    startsAt: '2026-01-01T00:00:00.000Z', endsAt: state === 'resolved' ? '2026-01-01T00:01:00.000Z' : null, windowStart: null, windowEnd: null, value: true, threshold: true,
  };
}

test('the latest record of each alert, newest first, filtered', () => {
  const view = new AlertView(100);
  view.apply(alert('a', 'firing'));
  view.apply(alert('b', 'firing', 'kobe'));
  view.apply(alert('a', 'resolved'));
  assert.deepEqual(view.list({ limit: 10 }).map((a) => `${a.id.slice(-1)}/${a.state}`), ['a/resolved', 'b/firing']);
  assert.deepEqual(view.list({ state: 'firing', limit: 10 }).map((a) => a.siteId), ['kobe']);
  assert.deepEqual(view.list({ siteId: 'osaka', limit: 10 }).map((a) => a.state), ['resolved']);
  assert.equal(view.list({ limit: 1 }).length, 1);
});

test('a firing record read after its resolution does not bring the alert back', () => {
  const view = new AlertView(100);
  view.apply(alert('a', 'resolved'));
  view.apply(alert('a', 'firing'));
  assert.deepEqual(view.list({ limit: 10 }).map((a) => a.state), ['resolved']);
});

test('bounded: the alerts resolved longest ago go first', () => {
  const view = new AlertView(100);
  for (let i = 0; i < 60; i += 1) view.apply(alert(`f${i}`, 'firing'));
  for (let i = 0; i < 60; i += 1) view.apply(alert(`r${i}`, 'resolved'));
  assert.equal(view.size, 100);
  assert.equal(view.list({ state: 'firing', limit: 1000 }).length, 60, 'every firing alert kept');
  assert.equal(view.list({ state: 'resolved', limit: 1000 }).at(-1)?.id, 'r20'.padStart(32, '0'));
});
