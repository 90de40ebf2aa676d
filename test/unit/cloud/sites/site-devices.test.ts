import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_DEVICES_PER_SITE, MAX_EVENTS_PER_SITE, MAX_PROPERTIES_PER_DEVICE, SiteDevices } from '../../../../cloud/sites/site-devices.js';
import type { AnyReading, PropertyValue } from '../../../../shared/reading.js';

let seq = 0;
const base = (deviceId: string, ts: string) => ({ v: 1 as const, siteId: 's1', seq: ++seq, deviceId, eoj: '013001', address: '127.0.0.2', ts });
const values = (deviceId: string, properties: Record<string, PropertyValue>, ts = '2026-12-07T00:00:00.000Z'): AnyReading =>
  ({ ...base(deviceId, ts), kind: 'poll', properties, raw: {} });
const event = (deviceId: string, type: string, ts = '2026-12-07T00:00:01.000Z'): AnyReading => ({ ...base(deviceId, ts), kind: 'event', event: { type } });

test('devices online of total: a device is online until its latest availability event says offline', () => {
  const devices = new SiteDevices();
  devices.take([values('a', { roomTemperature: 25 }), values('b', { roomTemperature: 26 }), values('c', {})]);
  assert.deepEqual(devices.counts(), { online: 3, total: 3, capped: false });
  devices.take([event('a', 'offline'), event('b', 'offline'), event('b', 'online'), event('c', 'found')]);
  assert.deepEqual(devices.counts(), { online: 2, total: 3, capped: false });
  assert.deepEqual(devices.list().map((d) => [d.deviceId, d.online]), [['a', false], ['b', true], ['c', true]]);
});

test('latest values per device: newest reading wins per property, older ones stay, last seen moves forward only', () => {
  const devices = new SiteDevices();
  devices.take([values('a', { roomTemperature: 25, operationStatus: true }, '2026-12-07T00:00:00.000Z')]);
  devices.take([values('a', { roomTemperature: 27 }, '2026-12-07T00:01:00.000Z'), event('a', 'unreachable', '2026-12-07T00:00:30.000Z')]);
  const [a] = devices.list();
  assert.deepEqual({ ...a?.properties }, { roomTemperature: 27, operationStatus: true });
  assert.equal(a?.lastSeenAt, '2026-12-07T00:01:00.000Z');
});

test('bounded: devices past the cap are left out and noted, properties past the cap are not kept, any name is data', () => {
  const devices = new SiteDevices();
  devices.take(Array.from({ length: MAX_DEVICES_PER_SITE + 5 }, (_, i) => values(`d${i}`, {})));
  assert.deepEqual(devices.counts(), { online: MAX_DEVICES_PER_SITE, total: MAX_DEVICES_PER_SITE, capped: true });
  const many = Object.fromEntries(Array.from({ length: MAX_PROPERTIES_PER_DEVICE + 10 }, (_, i) => [`p${i}`, i]));
  const one = new SiteDevices();
  one.take([values('x', JSON.parse('{"__proto__": 1, "constructor": 2}') as Record<string, PropertyValue>), values('x', many)]);
  const kept = one.list()[0]?.properties ?? {};
  assert.equal(Object.keys(kept).length, MAX_PROPERTIES_PER_DEVICE);
  assert.equal(Object.hasOwn(kept, '__proto__'), true);
  assert.equal(kept.constructor, 2);
});

test('the site\'s timeline: its latest device events, newest first, the oldest falling off', () => {
  const devices = new SiteDevices();
  devices.take([values('a', {}), event('a', 'found'), event('b', 'offline')]);
  assert.deepEqual(devices.recentEvents().map((e) => [e.deviceId, e.type]), [['b', 'offline'], ['a', 'found']]);
  for (let i = 0; i < 3; i += 1) devices.take(Array.from({ length: MAX_EVENTS_PER_SITE }, (_, n) => event(`d${i}-${n}`, 'found')));
  const kept = devices.recentEvents();
  assert.equal(kept.length, MAX_EVENTS_PER_SITE);
  assert.equal(kept[0]?.deviceId, `d2-${MAX_EVENTS_PER_SITE - 1}`);
  assert.equal(kept.at(-1)?.deviceId, 'd2-0');
});
