import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert } from '../../../../../cloud/alerts/alert.js';
import { ALERTS_TABLE, alertBatches } from '../../../../../cloud/lake/tables/alerts.js';
import { alertSchema } from '../../../../../cloud/alerts/alert.js';

const firing: Alert = {
  v: 1,
  id: '5478b2ed7493d6320b387edc497c7bca',
  state: 'firing',
  rule: 'aircon-not-cooling',
  ruleType: 'window',
  severity: 'warning',
  summary: 'Cooling, but the room stays well above the set temperature',
  scope: 'device',
  siteId: 'osaka-3f',
  deviceId: 'dev-1',
  site: { name: 'Osaka office, 3F', timeZone: 'Asia/Tokyo', location: { latitude: 34.7025, longitude: 135.4959 } },
  cause: 'threshold',
  startsAt: '2026-07-20T23:55:00.000Z',
  endsAt: null,
  windowStart: '2026-07-21T00:05:00.000Z',
  windowEnd: '2026-07-21T00:10:00.000Z',
  value: 30.05,
  threshold: 28,
};

test('every field of the alert schema has its column (the site flattened, value and threshold also as JSON), plus the Kafka position and the date', () => {
  const columns = ALERTS_TABLE.columns.map((column) => column.name);
  const fromSchema = Object.keys(alertSchema.properties).filter((name) => name !== 'v' && name !== 'site');
  for (const name of fromSchema) assert.ok(columns.includes(name), `column ${name}`);
  for (const name of ['siteName', 'siteTimeZone', 'latitude', 'longitude', 'valueJson', 'thresholdJson', 'kafkaPartition', 'kafkaOffset', 'date']) assert.ok(columns.includes(name), `column ${name}`);
  assert.deepEqual(ALERTS_TABLE.partitionColumns, ['date']);
});

test('rows are partitioned by the UTC date of startsAt, so an incident’s firing and resolved rows share a partition', () => {
  const resolved: Alert = { ...firing, state: 'resolved', endsAt: '2026-07-21T00:30:00.000Z', value: 25.5 };
  const batches = alertBatches([
    { alert: firing, position: { partition: 1, offset: '7' } },
    { alert: resolved, position: { partition: 1, offset: '9' } },
  ]);
  assert.equal(batches.length, 1);
  const [batch] = batches;
  assert.deepEqual(batch?.partitionValues, { date: '2026-07-20' });
  const columns = batch?.batch.columns ?? {};
  assert.deepEqual(columns.state, ['firing', 'resolved']);
  assert.deepEqual(columns.startsAt, [BigInt(Date.parse(firing.startsAt)) * 1000n, BigInt(Date.parse(firing.startsAt)) * 1000n]);
  assert.deepEqual(columns.endsAt, [null, BigInt(Date.parse('2026-07-21T00:30:00.000Z')) * 1000n]);
  assert.deepEqual(columns.latitude, [34.7025, 34.7025]);
  assert.deepEqual(columns.value, [30.05, 25.5]);
  assert.deepEqual(columns.kafkaOffset, [7n, 9n]);
});

test('a value that is not a number stays exact in the JSON column and is null in the double column; a site without a location has null coordinates', () => {
  const fault: Alert = { ...firing, rule: 'aircon-fault', ruleType: 'instant', cause: 'condition', windowStart: null, windowEnd: null, value: true, threshold: true, site: { ...firing.site, location: null } };
  const mode: Alert = { ...fault, value: 'heating', threshold: 'cooling', deviceId: null, scope: 'site' };
  const columns = alertBatches([
    { alert: fault, position: { partition: 0, offset: '1' } },
    { alert: mode, position: { partition: 0, offset: '2' } },
  ])[0]?.batch.columns ?? {};
  assert.deepEqual(columns.value, [null, null]);
  assert.deepEqual(columns.valueJson, ['true', '"heating"']);
  assert.deepEqual(columns.thresholdJson, ['true', '"cooling"']);
  assert.deepEqual(columns.latitude, [null, null]);
  assert.deepEqual(columns.windowStart, [null, null]);
  assert.deepEqual(columns.deviceId, ['dev-1', null]);
});
