import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guidelineDeviceType } from '../../../../edge/echonet/device-types.js';

test('device types use the Web API guideline\'s names where the gateway knows the class, else the class code', () => {
  assert.equal(guidelineDeviceType('013001'), 'homeAirConditioner');
  assert.equal(guidelineDeviceType('013002'), 'homeAirConditioner');
  assert.equal(guidelineDeviceType('027d01'), '0x027d');
});
