import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AvailabilityTracker } from '../../../../edge/echonet/availability.js';

const DEVICE = 'fe000008000102030405060708090a0b0c-013001';
const OFFLINE_AFTER_MS = 10_000;
const at = (ms: number): Date => new Date(Date.UTC(2025, 0, 1) + ms);

/** Re-tracking keeps the evidence and tells the state. */
const stateOf = (availability: AvailabilityTracker): string => availability.track(DEVICE, OFFLINE_AFTER_MS, false);

function tracker(): AvailabilityTracker {
  const availability = new AvailabilityTracker(2);
  availability.track(DEVICE, OFFLINE_AFTER_MS, true);
  return availability;
}

describe('availability rules', () => {
  test('a new device is online; one failed poll is not enough to doubt it', () => {
    const availability = tracker();
    assert.equal(stateOf(availability), 'online');
    assert.equal(availability.failed(DEVICE, at(1_000)), undefined);
    assert.equal(stateOf(availability), 'online');
  });

  test('failed polls and no announcement: offline; one answer brings it back online', () => {
    const availability = tracker();
    availability.failed(DEVICE, at(1_000));
    assert.deepEqual(availability.failed(DEVICE, at(2_000)), { deviceId: DEVICE, from: 'online', to: 'offline', at: at(2_000) });
    assert.equal(availability.failed(DEVICE, at(3_000)), undefined, 'no repeated transition');
    assert.deepEqual(availability.answered(DEVICE, at(4_000))?.to, 'online');
  });

  test('failed polls but a recent INF: unreachable (alive, not answering)', () => {
    const availability = tracker();
    assert.equal(availability.announced(DEVICE, at(500)), undefined, 'an INF does not change an online device');
    availability.failed(DEVICE, at(1_000));
    assert.equal(availability.failed(DEVICE, at(2_000))?.to, 'unreachable');
  });

  test('an INF lifts an offline device to unreachable; the sweep lets it age out to offline', () => {
    const availability = tracker();
    availability.failed(DEVICE, at(1_000));
    availability.failed(DEVICE, at(2_000));
    assert.equal(stateOf(availability), 'offline');
    assert.deepEqual(availability.announced(DEVICE, at(3_000)), { deviceId: DEVICE, from: 'offline', to: 'unreachable', at: at(3_000) });
    assert.deepEqual(availability.sweep(at(3_000 + OFFLINE_AFTER_MS)), [], 'still within the window');
    assert.deepEqual(availability.sweep(at(3_001 + OFFLINE_AFTER_MS)), [{ deviceId: DEVICE, from: 'unreachable', to: 'offline', at: at(3_001 + OFFLINE_AFTER_MS) }]);
  });

  test('a device is never forgotten: after any time offline, one answer makes it online', () => {
    const availability = tracker();
    for (let i = 1; i <= 1_000; i++) availability.failed(DEVICE, at(i * 60_000));
    assert.equal(stateOf(availability), 'offline');
    assert.equal(availability.answered(DEVICE, at(10_000_000))?.to, 'online');
  });

  test('re-tracking keeps the evidence and takes the new timing', () => {
    const availability = tracker();
    availability.announced(DEVICE, at(0));
    availability.failed(DEVICE, at(1_000));
    availability.track(DEVICE, 1_000, false);
    assert.equal(availability.failed(DEVICE, at(2_000))?.to, 'offline', 'the INF at 0 is older than the new 1 s window');
  });

  test('online needs an answer: a device that never answered is offline, however few polls failed', () => {
    const availability = new AvailabilityTracker(2);
    assert.equal(availability.track(DEVICE, OFFLINE_AFTER_MS, false), 'offline');
    assert.equal(availability.failed(DEVICE, at(1_000)), undefined, 'one failure does not make it online');
    assert.equal(availability.announced(DEVICE, at(1_500))?.to, 'unreachable', 'it announces, so it is alive');
    assert.equal(availability.answered(DEVICE, at(2_000))?.to, 'online');
  });

  test('a device its node no longer lists is offline, and stays so until listed again', () => {
    const availability = tracker();
    assert.equal(availability.gone(DEVICE, at(1_000))?.to, 'offline');
    assert.equal(availability.announced(DEVICE, at(1_500)), undefined);
    assert.equal(availability.track(DEVICE, OFFLINE_AFTER_MS, true), 'online');
  });

  test('untracked devices are ignored', () => {
    const availability = new AvailabilityTracker(2);
    assert.equal(availability.failed('nobody', at(0)), undefined);
    assert.deepEqual(availability.sweep(at(0)), []);
  });
});
