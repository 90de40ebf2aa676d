import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KnownDevice } from '../../../../edge/echonet/controller.js';
import { knownDeviceJson, parseKnownDevice } from '../../../../edge/echonet/known-devices.js';

const DEVICE: KnownDevice = {
  identity: {
    deviceId: 'fe000008000102030405060708090a0b0c-013001',
    node: { kind: 'id', id: 'fe000008000102030405060708090a0b0c' },
    eoj: '013001',
    address: '10.0.0.5',
    manufacturer: '000008',
    maps: { announce: [0x80], set: [0x80, 0xb3], get: [0x80, 0xb3, 0xbb] },
  },
  learned: { batchSize: { answeredUpTo: 3, refusedFrom: 4 }, unsupported: [0xf0] },
};

test('a known device survives the round trip through its stored JSON', () => {
  assert.deepEqual(parseKnownDevice(knownDeviceJson(DEVICE)), DEVICE);
  const { identity } = DEVICE;
  assert.deepEqual(parseKnownDevice(knownDeviceJson({ identity })), { identity });
});

test('a damaged or foreign row is skipped, never half-read', () => {
  const json = JSON.parse(knownDeviceJson(DEVICE)) as Record<string, unknown>;
  for (const bad of [
    'not json',
    JSON.stringify({ ...json, format: 99 }),
    JSON.stringify({ ...json, identity: { ...DEVICE.identity, eoj: 'zz' } }),
    JSON.stringify({ ...json, identity: { ...DEVICE.identity, node: { kind: 'id', id: 'short' } } }),
    JSON.stringify({ ...json, identity: { ...DEVICE.identity, maps: { announce: [1], set: null, get: null } } }),
  ]) {
    assert.equal(parseKnownDevice(bad), undefined, bad.slice(0, 60));
  }
  const withoutLimits = parseKnownDevice(JSON.stringify({ ...json, learned: { batchSize: { answeredUpTo: -1, refusedFrom: null }, unsupported: [] } }));
  assert.deepEqual(withoutLimits, { identity: DEVICE.identity }, 'bad learned limits are dropped, the device kept');
});
