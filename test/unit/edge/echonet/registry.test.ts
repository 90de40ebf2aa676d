import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deviceIdOf, nodeKeyOf } from '../../../../edge/echonet/device-id.js';
import { makeEoj } from '../../../../edge/echonet/eoj.js';
import { backoffDelay } from '../../../../edge/echonet/node-channel.js';
import { type DeviceIdentity, InMemoryDeviceRegistry, UNKNOWN_MAPS } from '../../../../edge/echonet/registry.js';

const AIRCON = makeEoj(0x01, 0x30, 0x01);
const NODE_ID = 'fe000008000102030405060708090a0b0c';
const at = (s: number): Date => new Date(Date.UTC(2025, 0, 1, 0, 0, s));

function identity(address: string, nodeId: string | null = NODE_ID): DeviceIdentity {
  const node = nodeKeyOf(nodeId, address);
  return { deviceId: deviceIdOf(node, AIRCON), node, eoj: '013001', address, manufacturer: '000008', maps: UNKNOWN_MAPS };
}

describe('device ids', () => {
  test('built from 0x83 and EOJ, falling back to the address', () => {
    assert.equal(deviceIdOf(nodeKeyOf(NODE_ID, '10.0.0.5'), AIRCON), `${NODE_ID}-013001`);
    assert.equal(deviceIdOf(nodeKeyOf(null, '10.0.0.5'), AIRCON), '10.0.0.5-013001');
  });
});

describe('in-memory device registry', () => {
  test('a known device at a new address is the same device, moved', () => {
    const registry = new InMemoryDeviceRegistry();
    assert.equal(registry.upsert(identity('10.0.0.5'), at(0)).kind, 'added');
    assert.equal(registry.upsert(identity('10.0.0.5'), at(1)).kind, 'updated');
    const moved = registry.upsert(identity('10.0.0.9'), at(2));
    assert.equal(moved.kind, 'moved');
    assert.equal(moved.kind === 'moved' ? moved.from : '', '10.0.0.5');
    assert.equal(registry.list().length, 1);
    assert.equal(registry.findByEndpoint('10.0.0.5', '013001'), undefined);
    assert.equal(registry.findByEndpoint('10.0.0.9', '013001')?.deviceId, `${NODE_ID}-013001`);
    assert.equal(registry.get(`${NODE_ID}-013001`)?.firstSeenAt, at(0).toISOString());
  });

  test('the newest device at an endpoint owns it', () => {
    const registry = new InMemoryDeviceRegistry();
    registry.upsert(identity('10.0.0.5'), at(0));
    const other = 'fe000008ffffffffffffffffffffffff01';
    registry.upsert(identity('10.0.0.5', other), at(1));
    assert.equal(registry.findByEndpoint('10.0.0.5', '013001')?.deviceId, `${other}-013001`);
  });

  test('maps read earlier survive a refresh that could not read them', () => {
    const registry = new InMemoryDeviceRegistry();
    registry.upsert({ ...identity('10.0.0.5'), maps: { announce: [0x80], set: [0xb3], get: [0x80, 0xb3] } }, at(0));
    registry.upsert(identity('10.0.0.5'), at(1));
    assert.deepEqual(registry.get(`${NODE_ID}-013001`)?.maps.get, [0x80, 0xb3]);
  });

  test('latest values merge property by property; availability changes are reported once', () => {
    const registry = new InMemoryDeviceRegistry();
    const { deviceId } = identity('10.0.0.5');
    registry.upsert(identity('10.0.0.5'), at(0));
    const base = { deviceId, eoj: '013001', address: '10.0.0.5', kind: 'poll' as const };
    registry.recordObservation({ ...base, ts: at(1).toISOString(), properties: { operationStatus: true, roomTemperature: 27 }, raw: { '80': '30', bb: '1b' } });
    registry.recordObservation({ ...base, ts: at(2).toISOString(), kind: 'inf', properties: { operationStatus: false }, raw: { '80': '31' } });
    const latest = registry.get(deviceId)?.latest;
    assert.deepEqual(latest?.properties, { operationStatus: false, roomTemperature: 27 });
    assert.equal(latest?.ts, at(2).toISOString());
    assert.equal(registry.get(deviceId)?.availability, 'online');
    assert.equal(registry.setAvailability(deviceId, 'offline', at(3)), true);
    assert.equal(registry.setAvailability(deviceId, 'offline', at(4)), false);
    assert.equal(registry.get(deviceId)?.availabilitySince, at(3).toISOString());
    assert.equal(registry.setAvailability(deviceId, 'unreachable', at(5)), true);
    assert.equal(registry.setAvailability(deviceId, 'online', at(6)), true);
    assert.equal(registry.get(deviceId)?.lastSeenAt, at(6).toISOString());
  });
});

describe('latest values say what the last answer said', () => {
  const base = { deviceId: `${NODE_ID}-013001`, eoj: '013001', address: '10.0.0.5' };

  test('a value that no longer decodes loses its old decoding (raw bytes and value agree)', () => {
    const registry = new InMemoryDeviceRegistry();
    registry.upsert(identity('10.0.0.5'), at(0));
    registry.recordObservation({ ...base, kind: 'poll', ts: at(1).toISOString(), properties: { consumedCumulativeElectricEnergy: 98.765 }, raw: { '85': '000181cd' } });
    registry.recordObservation({ ...base, kind: 'inf', ts: at(2).toISOString(), properties: {}, raw: { '85': 'fffffffd' } });
    assert.deepEqual(registry.get(base.deviceId)?.latest, { properties: {}, raw: { '85': 'fffffffd' }, ts: at(2).toISOString() });
  });

  test("a poll's answer replaces the latest values whole: what is no longer answered is gone", () => {
    const registry = new InMemoryDeviceRegistry();
    registry.upsert(identity('10.0.0.5'), at(0));
    registry.recordObservation({ ...base, kind: 'poll', ts: at(1).toISOString(), properties: { operationStatus: true, humidity: 40 }, raw: { '80': '30', ba: '28' } });
    registry.recordObservation({ ...base, kind: 'poll', ts: at(2).toISOString(), properties: { operationStatus: true }, raw: { '80': '30' } });
    assert.deepEqual(registry.get(base.deviceId)?.latest?.properties, { operationStatus: true });
    assert.deepEqual(registry.get(base.deviceId)?.latest?.raw, { '80': '30' });
  });
});

describe('retry backoff', () => {
  test('backoff doubles, is capped, and jitters within [half, full]', () => {
    const policy = { timeoutMs: 100, maxRetries: 5, baseDelayMs: 100, maxDelayMs: 350 };
    assert.equal(backoffDelay(policy, 1, () => 0), 50);
    assert.equal(backoffDelay(policy, 1, () => 1), 100);
    assert.equal(backoffDelay(policy, 2, () => 1), 200);
    assert.equal(backoffDelay(policy, 3, () => 1), 350);
    assert.equal(backoffDelay(policy, 9, () => 0.5), 263);
  });
});
