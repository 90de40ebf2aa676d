import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAlertInput } from '../../../../cloud/alerts/input.js';

const good = { v: 1, siteId: 's', seq: 1, deviceId: 'd', eoj: '013001', address: '127.0.0.2', ts: '2026-01-01T00:00:00.000Z', kind: 'poll', properties: { roomTemperature: 25 }, raw: {} };
const parse = (value: unknown) => parseAlertInput(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));

test('a reading from the topic, and an edge event without properties', () => {
  const parsed = parse(good);
  assert.ok(parsed.ok);
  assert.equal(parsed.input.properties.roomTemperature, 25);
  const event = parse({ ...good, kind: 'event', properties: undefined, event: { type: 'offline' }, epoch: '00000000000000aa' });
  assert.ok(event.ok);
  assert.deepEqual(event.input.properties, {});
});

test('what is no reading is named', () => {
  assert.deepEqual(parseAlertInput(null), { ok: false, error: 'empty record (a tombstone?)' });
  assert.match(String((parse('{') as { error: string }).error), /^not JSON/);
  assert.deepEqual(parse([1]), { ok: false, error: 'siteId is not a string' });
  assert.deepEqual(parse({ ...good, seq: 1.5 }), { ok: false, error: 'seq is not an integer' });
  assert.deepEqual(parse({ ...good, ts: 'yesterday' }), { ok: false, error: 'ts is not a timestamp' });
  assert.deepEqual(parse({ ...good, properties: [] }), { ok: false, error: 'properties is not an object' });
  assert.deepEqual(parse({ ...good, kind: 'event', event: {} }), { ok: false, error: 'an event reading without event.type' });
});
