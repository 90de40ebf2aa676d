import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeviceEvent } from '../../../../edge/echonet/controller.js';
import { deviceEventObservation } from '../../../../edge/echonet/observation.js';
import type { DeviceRecord } from '../../../../edge/echonet/registry.js';

const device: DeviceRecord = {
  deviceId: 'fe000008000102030405060708090a0b0c-013001',
  node: { kind: 'id', id: 'fe000008000102030405060708090a0b0c' },
  eoj: '013001',
  address: '10.0.0.9',
  manufacturer: null,
  maps: { announce: null, set: null, get: null },
  availability: 'offline',
  availabilitySince: '2026-11-23T05:00:00.000Z',
  firstSeenAt: '2026-11-23T05:00:00.000Z',
  lastSeenAt: '2026-11-23T05:00:00.000Z',
  latest: null,
};
const at = new Date('2026-11-23T05:00:01.000Z');

test('device events become event readings: found, moved with both addresses, availability, maps changed', () => {
  const cases: Array<[DeviceEvent, object]> = [
    [{ type: 'discovered', device }, { type: 'found' }],
    [{ type: 'moved', device, from: '10.0.0.5' }, { type: 'moved', fromAddress: '10.0.0.5', toAddress: '10.0.0.9' }],
    [{ type: 'availability', device, from: 'online' }, { type: 'offline' }],
    [{ type: 'propertyMapChanged', device, before: device.maps }, { type: 'propertyMapChanged' }],
  ];
  for (const [event, detail] of cases) {
    assert.deepEqual(deviceEventObservation(event, at), { deviceId: device.deviceId, eoj: '013001', address: '10.0.0.9', ts: at.toISOString(), kind: 'event', event: detail });
  }
});
