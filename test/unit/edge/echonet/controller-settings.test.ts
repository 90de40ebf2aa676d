import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSettings, searchDelay } from '../../../../edge/echonet/controller-settings.js';
import { silentLogger } from '../../../../shared/log.js';

test('searches come often in the first minute, backing off to the search interval', () => {
  const settings = resolveSettings({ interfaceAddress: '127.0.0.1', searchIntervalMs: 300_000, logger: silentLogger() });
  const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((done) => searchDelay(settings, done));
  assert.deepEqual(delays, [2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]);
  let at = 0;
  const inFirstMinute = delays.filter((delay) => (at += delay) < 60_000).length + 1;
  assert.equal(inFirstMinute, 5, 'five searches in the first minute, the one at start included');
  assert.throws(() => resolveSettings({ interfaceAddress: '127.0.0.1', firstSearchRetryMs: 0, logger: silentLogger() }), /firstSearchRetryMs must be positive/);
});
