import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeSiteStatus, MAX_SITE_STATUS_BYTES, parseSiteStatus } from '../../../../shared/contract/envelopes.js';

test('a site status round-trips, and the bare words of older edges still parse', () => {
  const report = { v: 1, state: 'online', backlog: 1200, oldestUnsentAt: '2026-12-07T03:00:00.000Z' } as const;
  assert.deepEqual(parseSiteStatus(Buffer.from(encodeSiteStatus(report))), report);
  assert.deepEqual(parseSiteStatus(Buffer.from('offline')), { v: 1, state: 'offline' });
  assert.deepEqual(parseSiteStatus(Buffer.from('online')), { v: 1, state: 'online' });
});

test('what is not a status is refused: other states, negative or fractional backlogs, extra fields, oversized payloads', () => {
  for (const payload of [
    '{"v":1,"state":"sleeping"}',
    '{"v":1,"state":"online","backlog":-1}',
    '{"v":1,"state":"online","backlog":1.5}',
    '{"v":1,"state":"online","oldestUnsentAt":"yesterday"}',
    '{"v":1,"state":"online","note":"hi"}',
    '{"v":2,"state":"online"}',
    'not json',
    `{"v":1,"state":"online","pad":"${'x'.repeat(MAX_SITE_STATUS_BYTES)}"}`,
  ]) {
    assert.equal(parseSiteStatus(Buffer.from(payload)), undefined, payload.slice(0, 60));
  }
});
