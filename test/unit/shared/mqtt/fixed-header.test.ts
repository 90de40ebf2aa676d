import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRemainingLength, readFixedHeader } from '../../../../shared/mqtt/fixed-header.js';

test('remaining lengths at each byte-count boundary read back as written', () => {
  for (const value of [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455]) {
    const header = readFixedHeader([0x30, ...encodeRemainingLength(value)]);
    assert.deepEqual(header, { state: 'complete', type: 3, first: 0x30, remaining: value, headerBytes: 1 + encodeRemainingLength(value).length });
  }
});

test('a header is incomplete while its length continues, and malformed past four length bytes', () => {
  assert.equal(readFixedHeader([0x30]).state, 'incomplete');
  assert.equal(readFixedHeader([0x30, 0x80, 0x80]).state, 'incomplete');
  assert.equal(readFixedHeader([0x30, 0x80, 0x80, 0x80, 0x80]).state, 'malformed');
});
