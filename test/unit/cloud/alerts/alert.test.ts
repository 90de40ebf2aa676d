import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertId, parseAlert, type Alert } from '../../../../cloud/alerts/alert.js';

const record: Alert = {
  v: 1,
  id: alertId('fault', 's1/d1', Date.UTC(2026, 0, 1)),
  state: 'firing',
  rule: 'fault',
  ruleType: 'instant',
  severity: 'critical',
  summary: 'fault',
  scope: 'device',
  siteId: 's1',
  deviceId: 'd1',
  site: { name: 'S1', timeZone: 'UTC', location: { latitude: 1, longitude: 2 } },
  cause: 'condition',
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: null,
  windowStart: null,
  windowEnd: null,
  value: true,
  threshold: true,
};
const parse = (value: unknown) => parseAlert(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));

test('an alert record of the topic parses as itself', () => {
  assert.deepEqual(parse(record), { ok: true, value: record });
});

test('what is not an alert record is refused, naming the field', () => {
  assert.deepEqual(parseAlert(null), { ok: false, error: 'empty record (a tombstone?)' });
  assert.match((parse('{"v":') as { error: string }).error, /^not JSON/);
  assert.deepEqual(parse({ ...record, state: 'pending' }), { ok: false, error: '/state must be equal to one of the allowed values' });
  assert.deepEqual(parse({ ...record, startsAt: '2026-01-01 00:00:00' }), { ok: false, error: '/startsAt must match format "date-time"' });
  const { site: _site, ...withoutSite } = record;
  assert.deepEqual(parse(withoutSite), { ok: false, error: "(top level) must have required property 'site'" });
});
