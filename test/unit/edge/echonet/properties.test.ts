import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PropertyValue } from '../../../../shared/reading.js';
import { NODE_PROFILE_EOJ, makeEoj } from '../../../../edge/echonet/eoj.js';
import { decodeInstanceList, encodeInstanceList } from '../../../../edge/echonet/properties-common.js';
import { codecFor, decodeProperties, encodeByName } from '../../../../edge/echonet/properties.js';

const AIRCON = makeEoj(0x01, 0x30, 0x01);
const SOME_OTHER_DEVICE = makeEoj(0x02, 0x88, 0x01);
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
/** Marks bytes a codec found meaningless; a symbol, since every string is a possible value. */
const INVALID = Symbol('invalid');

function decode(epc: number, edt: Uint8Array, eoj = AIRCON): PropertyValue | typeof INVALID {
  const codec = codecFor(eoj, epc);
  assert.ok(codec, `codec for 0x${epc.toString(16)}`);
  const decoded = codec.decode(edt);
  return decoded.kind === 'value' ? decoded.value : INVALID;
}

function encode(name: string, value: PropertyValue, eoj = AIRCON): number[] | typeof INVALID {
  const encoded = encodeByName(eoj, name, value);
  return encoded.ok ? [...encoded.value.edt] : INVALID;
}

describe('home air conditioner and super class properties', () => {
  const cases: Array<[name: string, epc: number, edt: number[], value: PropertyValue]> = [
    ['operationStatus', 0x80, [0x30], true],
    ['operationStatus', 0x80, [0x31], false],
    ['operationMode', 0xb0, [0x41], 'auto'],
    ['operationMode', 0xb0, [0x42], 'cooling'],
    ['operationMode', 0xb0, [0x43], 'heating'],
    ['operationMode', 0xb0, [0x44], 'dehumidification'],
    ['operationMode', 0xb0, [0x45], 'circulation'],
    ['operationMode', 0xb0, [0x40], 'other'],
    ['targetTemperature', 0xb3, [25], 25],
    ['targetTemperature', 0xb3, [0], 0],
    ['targetTemperature', 0xb3, [50], 50],
    ['roomTemperature', 0xbb, [26], 26],
    ['roomTemperature', 0xbb, [0xfb], -5],
    ['roomTemperature', 0xbb, [0x81], -127],
    ['roomTemperature', 0xbb, [125], 125],
    ['outdoorTemperature', 0xbe, [0xf6], -10],
    ['humidity', 0xba, [55], 55],
    ['humidity', 0xba, [100], 100],
    ['airFlowLevel', 0xa0, [0x31], 1],
    ['airFlowLevel', 0xa0, [0x38], 8],
    ['airFlowLevel', 0xa0, [0x41], 'auto'],
    ['instantaneousElectricPowerConsumption', 0x84, [0x01, 0xf4], 500],
    ['instantaneousElectricPowerConsumption', 0x84, [0xff, 0xfd], 65533],
    ['consumedCumulativeElectricEnergy', 0x85, [0x00, 0x12, 0xd6, 0x87], 1234.567],
    ['consumedCumulativeElectricEnergy', 0x85, [0x3b, 0x9a, 0xc9, 0xff], 999999.999],
    ['faultStatus', 0x88, [0x41], true],
    ['faultStatus', 0x88, [0x42], false],
    ['installationLocation', 0x81, [0x08], 'livingRoom'],
    ['installationLocation', 0x81, [0x0a], 'livingRoom2'],
    ['installationLocation', 0x81, [0x00], 'unspecified'],
    ['protocol', 0x82, [0x00, 0x00, 0x52, 0x00], 'Rel.R'],
    ['manufacturer', 0x8a, [0x00, 0x00, 0x08], '000008'],
    ['id', 0x83, [0xfe, 0x00, 0x00, 0x08, ...Array.from({ length: 13 }, (_, i) => i)], 'fe000008000102030405060708090a0b0c'],
    ['getPropertyMap', 0x9f, [0x03, 0x80, 0xb0, 0xb3], '80,b0,b3'],
  ];
  for (const [name, epc, edt, value] of cases) {
    test(`${name} ${Buffer.from(edt).toString('hex')} ⇔ ${JSON.stringify(value)}`, () => {
      assert.equal(codecFor(AIRCON, epc)?.name, name);
      assert.deepEqual(decode(epc, bytes(...edt)), value);
      assert.deepEqual(encode(name, value), edt);
    });
  }

  describe('"no valid value" codes decode to null, never to numbers', () => {
    const nulls: Array<[string, number, number[]]> = [
      ['roomTemperature 0x7E (unmeasurable)', 0xbb, [0x7e]],
      ['roomTemperature 0x7F (overflow)', 0xbb, [0x7f]],
      ['roomTemperature 0x80 (underflow)', 0xbb, [0x80]],
      ['outdoorTemperature 0x7E', 0xbe, [0x7e]],
      ['outdoorTemperature 0x7F', 0xbe, [0x7f]],
      ['outdoorTemperature 0x80', 0xbe, [0x80]],
      ['targetTemperature 0xFD (undefined)', 0xb3, [0xfd]],
      ['humidity 0xFD (unmeasurable)', 0xba, [0xfd]],
      ['power 0xFFFE (overflow)', 0x84, [0xff, 0xfe]],
      ['energy 0xFFFFFFFE', 0x85, [0xff, 0xff, 0xff, 0xfe]],
      ['installationLocation 0xFF (indefinite)', 0x81, [0xff]],
    ];
    for (const [what, epc, edt] of nulls) test(what, () => assert.equal(decode(epc, bytes(...edt)), null));
  });

  describe('bytes that make no sense are invalid (kept raw, no name)', () => {
    const invalid: Array<[string, number, number[]]> = [
      ['operationStatus 0x32', 0x80, [0x32]],
      ['operationStatus of two bytes', 0x80, [0x30, 0x30]],
      ['operationMode 0x46', 0xb0, [0x46]],
      ['targetTemperature 51', 0xb3, [51]],
      ['humidity 101', 0xba, [101]],
      ['airFlowLevel 0x39', 0xa0, [0x39]],
      ['roomTemperature without bytes', 0xbb, []],
      ['power of one byte', 0x84, [0x01]],
      ['manufacturer of 4 bytes', 0x8a, [0, 0, 0, 8]],
      ['id of 16 bytes', 0x83, Array.from({ length: 16 }, () => 0xfe)],
      ['location free definition 0x80', 0x81, [0x80]],
      ['property map with bad length', 0x9f, [0x03, 0x80]],
    ];
    for (const [what, epc, edt] of invalid) test(what, () => assert.equal(decode(epc, bytes(...edt)), INVALID));
  });

  test('encoding refuses values outside the defined ranges', () => {
    assert.equal(encode('targetTemperature', 51), INVALID);
    assert.equal(encode('targetTemperature', 'warm'), INVALID);
    assert.equal(encode('roomTemperature', 126), INVALID);
    assert.equal(encode('roomTemperature', 20.5), INVALID);
    assert.equal(encode('operationMode', 'turbo'), INVALID);
    assert.equal(encode('airFlowLevel', 9), INVALID);
    assert.equal(encode('operationStatus', 'on'), INVALID);
    assert.equal(encode('manufacturer', 'zz0008'), INVALID);
  });

  test('null encodes to the class\'s "no valid value" code', () => {
    assert.deepEqual(encode('roomTemperature', null), [0x7e]);
    assert.deepEqual(encode('targetTemperature', null), [0xfd]);
    assert.deepEqual(encode('humidity', null), [0xfd]);
  });

  test('unknown property names are reported as such', () => {
    const result = encodeByName(AIRCON, 'warpDrive', 1);
    assert.ok(!result.ok);
    assert.equal(result.error.code, 'UNKNOWN_PROPERTY');
  });

  test('other device classes get the super class only', () => {
    assert.equal(codecFor(SOME_OTHER_DEVICE, 0x80)?.name, 'operationStatus');
    assert.equal(codecFor(SOME_OTHER_DEVICE, 0xb3), undefined);
  });
});

describe('node profile properties', () => {
  test('instance lists ⇔ comma-separated EOJs', () => {
    const edt = bytes(0x02, 0x01, 0x30, 0x01, 0x01, 0x30, 0x02);
    assert.equal(decode(0xd6, edt, NODE_PROFILE_EOJ), '013001,013002');
    assert.equal(decode(0xd5, edt, NODE_PROFILE_EOJ), '013001,013002');
    assert.deepEqual(encode('selfNodeInstanceListS', '013001,013002', NODE_PROFILE_EOJ), [...edt]);
  });

  test('structured instance list decoding for discovery', () => {
    const list = decodeInstanceList(encodeInstanceList([makeEoj(1, 0x30, 1), makeEoj(5, 0xff, 1)]));
    assert.ok(list.ok);
    assert.deepEqual(list.value, [makeEoj(1, 0x30, 1), makeEoj(5, 0xff, 1)]);
    const broken = decodeInstanceList(bytes(0x02, 0x01, 0x30, 0x01));
    assert.ok(!broken.ok);
    assert.equal(broken.error.code, 'LENGTH_MISMATCH');
  });

  test('more than 84 instances: the count says so, the list stops at 84', () => {
    const eojs = Array.from({ length: 90 }, (_, i) => makeEoj(1, 0x30, i + 1));
    const edt = encodeInstanceList(eojs);
    assert.equal(edt[0], 90);
    assert.equal(edt.length, 1 + 84 * 3);
    const list = decodeInstanceList(edt);
    assert.ok(list.ok);
    assert.equal(list.value.length, 84);
  });

  test('counts, class list, version, operating status, id', () => {
    assert.equal(decode(0xd3, bytes(0, 0, 3), NODE_PROFILE_EOJ), 3);
    assert.equal(decode(0xd4, bytes(0, 2), NODE_PROFILE_EOJ), 2);
    assert.equal(decode(0xd7, bytes(1, 0x01, 0x30), NODE_PROFILE_EOJ), '0130');
    assert.equal(decode(0x82, bytes(1, 13, 1, 0), NODE_PROFILE_EOJ), '1.13');
    assert.equal(codecFor(NODE_PROFILE_EOJ, 0x80)?.name, 'operatingStatus');
    assert.equal(codecFor(NODE_PROFILE_EOJ, 0x83)?.name, 'id');
    assert.equal(codecFor(NODE_PROFILE_EOJ, 0xb3), undefined);
  });
});

describe('decoding property lists for observations', () => {
  test('names what it knows, keeps raw hex of everything, skips refused EPCs', () => {
    const decoded = decodeProperties(AIRCON, [
      { epc: 0x80, edt: bytes(0x30) },
      { epc: 0xbb, edt: bytes(0x7e) },
      { epc: 0xb3, edt: bytes() }, // refused in a Get_SNA
      { epc: 0xc0, edt: bytes(0x01, 0x02) }, // standard but not decoded by us
      { epc: 0xf3, edt: bytes(0xde, 0xad) }, // vendor
      { epc: 0xb0, edt: bytes(0x99) }, // invalid mode
    ]);
    assert.deepEqual(decoded.properties, { operationStatus: true, roomTemperature: null });
    assert.deepEqual(decoded.raw, { '80': '30', bb: '7e', c0: '0102', f3: 'dead', b0: '99' });
    assert.deepEqual(decoded.invalid.map((i) => i.epc), [0xb0]);
  });

  test('vendor EPCs 0xF0–0xFF are never decoded, whatever the class', () => {
    for (let epc = 0xf0; epc <= 0xff; epc++) {
      assert.equal(codecFor(AIRCON, epc), undefined);
      assert.equal(codecFor(NODE_PROFILE_EOJ, epc), undefined);
    }
  });
});
