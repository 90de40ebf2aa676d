import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodePropertyMap, encodePropertyMap } from '../../../../edge/echonet/property-map.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('property maps', () => {
  test('decodes the 18-property bitmap example from the notes', () => {
    const map = decodePropertyMap(hex('12 0d01 0109 0101 0000 0100 0908 0002 0a03'));
    assert.ok(map.ok);
    assert.deepEqual(
      map.value,
      [0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x88, 0x8a, 0x8f, 0x9d, 0x9e, 0x9f, 0xa0, 0xb0, 0xb3, 0xba, 0xbb, 0xbe],
    );
    assert.equal(map.value.length, 0x12);
  });

  test('encodes the same 18 EPCs back into the same bitmap', () => {
    const epcs = [0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x88, 0x8a, 0x8f, 0x9d, 0x9e, 0x9f, 0xa0, 0xb0, 0xb3, 0xba, 0xbb, 0xbe];
    assert.equal(toHex(encodePropertyMap(epcs)), '120d010109010100000100090800020a03');
  });

  test('byte n, bit b ⇔ EPC 0x80 + 0x10·b + (n − 1), at the corners of the table', () => {
    const corners = [0x80, 0x8f, 0xf0, 0xff, 0x90, 0x9f, 0xe0, 0xef, 0x81, 0xc7, 0xd8, 0xaa, 0xb1, 0xcc, 0xdd, 0xee];
    const bitmap = encodePropertyMap(corners);
    assert.equal(bitmap.length, 17);
    // Byte 1 holds the EPCs ending in 0: 0x80 → bit 0, 0x90 → bit 1, 0xe0 → bit 6, 0xf0 → bit 7.
    assert.equal(bitmap[1], 0b1100_0011);
    // Byte 16 holds the EPCs ending in f: 0x8f → bit 0, 0x9f → bit 1, 0xef → bit 6, 0xff → bit 7.
    assert.equal(bitmap[16], 0b1100_0011);
    const decoded = decodePropertyMap(bitmap);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, [...corners].sort((a, b) => a - b));
  });

  test('list form below 16 properties, round trip', () => {
    const bytes = encodePropertyMap([0xb3, 0x80, 0xb0]);
    assert.equal(toHex(bytes), '0380b0b3');
    const decoded = decodePropertyMap(bytes);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, [0x80, 0xb0, 0xb3]);
  });

  test('15 properties stay a list, 16 become a bitmap', () => {
    const fifteen = Array.from({ length: 15 }, (_, i) => 0x80 + i);
    const sixteen = Array.from({ length: 16 }, (_, i) => 0x80 + i);
    assert.equal(encodePropertyMap(fifteen).length, 16);
    assert.equal(encodePropertyMap(sixteen).length, 17);
    for (const epcs of [fifteen, sixteen]) {
      const decoded = decodePropertyMap(encodePropertyMap(epcs));
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.value, epcs);
    }
  });

  test('every EPC 0x80–0xFF survives a round trip', () => {
    const all = Array.from({ length: 128 }, (_, i) => 0x80 + i);
    const bytes = encodePropertyMap(all);
    assert.equal(bytes[0], 128);
    const decoded = decodePropertyMap(bytes);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, all);
  });

  test('an empty map is a count of zero', () => {
    assert.equal(toHex(encodePropertyMap([])), '00');
    const decoded = decodePropertyMap(hex('00'));
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, []);
  });

  test('a bitmap whose count disagrees is decoded from the bitmap', () => {
    const decoded = decodePropertyMap(hex('11 01000000000000000000000000000000'));
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, [0x80]);
  });

  describe('errors', () => {
    const cases: Array<[string, string, string]> = [
      ['EMPTY', 'no count byte', ''],
      ['LENGTH_MISMATCH', 'list shorter than its count', '03 80b0'],
      ['LENGTH_MISMATCH', 'list longer than its count', '01 80b0'],
      ['LENGTH_MISMATCH', 'bitmap of 15 bytes', '12 0d01 0109 0101 0000 0100 0908 0002 0a'],
      ['LENGTH_MISMATCH', 'bitmap of 17 bytes', '12 0d01 0109 0101 0000 0100 0908 0002 0a03 00'],
      ['INVALID_EPC', 'EPC below 0x80 in a list', '02 807f'],
    ];
    for (const [code, what, bytes] of cases) {
      test(`${code}: ${what}`, () => {
        const result = decodePropertyMap(hex(bytes));
        assert.ok(!result.ok);
        assert.equal(result.error.code, code);
      });
    }
    test('encoding refuses EPCs outside 0x80–0xFF', () => {
      assert.throws(() => encodePropertyMap([0x7f]), RangeError);
      assert.throws(() => encodePropertyMap([0x100]), RangeError);
    });
  });
});
