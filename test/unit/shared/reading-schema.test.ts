import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBatchAck, parseReading, parseReadingBatch } from '../../../shared/reading-schema.js';
import type { Reading, ReadingBatch } from '../../../shared/reading.js';
import { aircon } from '../../support/observations.js';

const reading = (seq: number, siteId = 's1'): Reading => ({ v: 1, siteId, seq, ...aircon(seq) });
const batch = (readings: Reading[]): ReadingBatch => ({ v: 1, siteId: 's1', batchId: '1-2', readings });

test('a well-formed batch parses', () => {
  const parsed = parseReadingBatch(JSON.stringify(batch([reading(1), reading(2)])));
  assert.ok(parsed.ok);
  assert.equal(parsed.value.readings.length, 2);
});

test('bad batches are refused with the reason', () => {
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['not JSON', '{"v":1,', /not JSON/],
    ['empty readings', JSON.stringify(batch([])), /must NOT have fewer than 1 items/],
    ['wrong version', JSON.stringify({ ...batch([reading(1)]), v: 2 }), /must be equal to constant/],
    ['foreign site inside', JSON.stringify(batch([reading(1), reading(2, 's2')])), /readings\[1\]\.siteId s2 differs/],
    ['seqs going back', JSON.stringify(batch([reading(2), reading(1)])), /readings\[1\]\.seq 1 does not increase/],
    ['local time', JSON.stringify(batch([{ ...reading(1), ts: '2026-11-23T05:00:00+09:00' }])), /must match format "date-time"/],
    ['hour 25', JSON.stringify(batch([{ ...reading(1), ts: '2026-11-23T25:00:00Z' }])), /not a real instant/],
    ['30 February', JSON.stringify(batch([{ ...reading(1), ts: '2026-02-30T05:00:00.000Z' }])), /not a real instant/],
    ['before 1970', JSON.stringify(batch([{ ...reading(1), ts: '1969-12-31T23:59:59.999Z' }])), /readings\[0\]\.ts 1969-12-31T23:59:59\.999Z is outside 1970-01-01 to 2199-12-31; check the gateway's clock/],
    ['year 2300, past what a lake timestamp holds', JSON.stringify(batch([{ ...reading(1), ts: '2300-01-01T00:00:00Z' }])), /is outside 1970-01-01 to 2199-12-31/],
    ['bad raw EPC', JSON.stringify(batch([{ ...reading(1), raw: { zz: '00' } }])), /property name must be valid|must match pattern/],
    ['extra field', JSON.stringify(batch([{ ...reading(1), extra: 1 } as Reading])), /must NOT have additional properties/],
  ];
  for (const [name, payload, reason] of cases) {
    const parsed = parseReadingBatch(payload);
    assert.ok(!parsed.ok, `${name} should be refused`);
    assert.match(parsed.error, reason, name);
  }
});

test('a single reading and an ack parse, and a malformed ack does not', () => {
  assert.ok(parseReading(JSON.stringify(reading(5))).ok);
  assert.ok(!parseReading(JSON.stringify({ ...reading(5), ts: '2026-11-23T05:00:60Z' })).ok);
  assert.ok(!parseReading(JSON.stringify({ ...reading(5), ts: '9999-12-31T23:59:59Z' })).ok, 'a reading in Kafka past 2199 is refused too');
  assert.ok(parseReading(JSON.stringify({ ...reading(5), ts: '1970-01-01T00:00:05Z' })).ok, 'a gateway that booted without its clock still counts');
  assert.ok(parseBatchAck('{"v":1,"siteId":"s1","batchId":"1-2","lastSeq":2}').ok);
  assert.ok(!parseBatchAck('{"v":1,"siteId":"s1","batchId":"1-2","lastSeq":-1}').ok);
});

test('device events travel in the same batch and seq as readings; a bad event is refused', () => {
  const event = { v: 1, siteId: 's1', seq: 2, epoch: '0123456789abcdef', deviceId: 'd', eoj: '013001', address: '10.0.0.9', ts: '2026-11-23T05:00:00.000Z', kind: 'event', event: { type: 'moved', fromAddress: '10.0.0.5', toAddress: '10.0.0.9' } } as const;
  const parsed = parseReadingBatch(JSON.stringify({ v: 1, siteId: 's1', batchId: '1-2', readings: [{ ...reading(1), epoch: '0123456789abcdef' }, event] }));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  assert.deepEqual(parsed.value.readings[1], event);
  for (const bad of [
    { ...event, properties: {} },
    { ...event, event: { type: 'moved', extra: 1 } },
    { ...event, event: { type: '' } },
    { ...event, kind: 'poll' },
  ]) {
    assert.ok(!parseReadingBatch(JSON.stringify({ v: 1, siteId: 's1', batchId: '2-2', readings: [bad] })).ok, JSON.stringify(bad));
    assert.ok(!parseReading(JSON.stringify(bad)).ok, `as a Kafka message: ${JSON.stringify(bad)}`);
  }
  // The lake reads each reading from Kafka alone: an event must parse there as it did in its batch.
  const single = parseReading(JSON.stringify(event));
  assert.ok(single.ok, single.ok ? '' : single.error);
  assert.deepEqual(single.value, event);
  assert.ok(!parseReading(JSON.stringify({ ...event, ts: '2026-11-23T25:00:00Z' })).ok);
});

test('epoch: 16 lowercase hex digits when present; readings of older edges without it still parse', () => {
  assert.ok(parseReading(JSON.stringify(reading(5))).ok, 'no epoch: an older edge');
  assert.ok(parseReading(JSON.stringify({ ...reading(5), epoch: 'a1b2c3d4e5f60718' })).ok);
  for (const epoch of ['A1B2C3D4E5F60718', 'a1b2', 'zzzzzzzzzzzzzzzz']) assert.ok(!parseReading(JSON.stringify({ ...reading(5), epoch })).ok, epoch);
});

test('hostile strings are refused by the schema: huge values and names, NUL and bidi characters', () => {
  const huge = 'x'.repeat(100_000);
  const cases: Array<[string, Reading, RegExp]> = [
    ['a 100,000-character value', { ...reading(1), properties: { operationMode: huge } }, /must NOT have more than 512 characters|must match/],
    ['a 100,000-character property name', { ...reading(1), properties: { [huge]: 1 } }, /property name must be valid|must match pattern/],
    ['a property name with a space', { ...reading(1), properties: { 'room temperature': 1 } }, /property name must be valid|must match pattern/],
    ['NUL in deviceId', { ...reading(1), deviceId: 'fe00\u0000-013001' }, /deviceId must match pattern/],
    ['a right-to-left override in address', { ...reading(1), address: '10.0.0.1\u202e' }, /address must match pattern/],
    ['NUL in a value', { ...reading(1), properties: { operationMode: 'cool\u0000ing' } }, /must match pattern|must be/],
    ['a bidi isolate in a value', { ...reading(1), properties: { operationMode: '\u2066cooling' } }, /must match pattern|must be/],
    ['a newline in a value (a forged log line)', { ...reading(1), properties: { operationMode: 'ok\n{"level":50}' } }, /must match pattern|must be/],
  ];
  for (const [name, hostile, reason] of cases) {
    const parsed = parseReadingBatch(JSON.stringify(batch([hostile])));
    assert.ok(!parsed.ok, `${name} should be refused`);
    assert.match(parsed.error, reason, name);
  }
  const japanese = parseReadingBatch(JSON.stringify(batch([{ ...reading(1), properties: { installationLocation: '居間', manufacturer: 'ff'.repeat(255) } }])));
  assert.ok(japanese.ok, 'text in any language and a 255-byte EDT as hex still pass');
});
