import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONTROLLER_EOJ, NODE_PROFILE_EOJ, makeEoj } from '../../../../edge/echonet/eoj.js';
import { ESV, type Esv, isSetGetEsv } from '../../../../edge/echonet/esv.js';
import { type Frame, type FrameErrorCode, FrameEncodeError, allProperties, decodeFrame, detachedFrame, encodeFrame } from '../../../../edge/echonet/frame.js';

const AIRCON = makeEoj(0x01, 0x30, 0x01);
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const edt = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

function frameFor(esv: Esv): Frame {
  const base = { tid: 0xbeef, seoj: CONTROLLER_EOJ, deoj: AIRCON };
  if (isSetGetEsv(esv)) {
    return { ...base, esv, setProperties: [{ epc: 0x80, edt: edt(0x30) }], getProperties: [{ epc: 0xbb, edt: edt() }, { epc: 0xb3, edt: edt(0x1a) }] };
  }
  return { ...base, esv, properties: [{ epc: 0x80, edt: edt(0x30) }, { epc: 0xb3, edt: edt() }, { epc: 0x85, edt: edt(0, 1, 2, 3) }] };
}

/** Decoded EDTs are views into the input; compare contents, not buffers. */
function plain(frame: Frame): unknown {
  const list = (ps: readonly { epc: number; edt: Uint8Array }[]) => ps.map((p) => ({ epc: p.epc, edt: [...p.edt] }));
  return 'properties' in frame
    ? { ...frame, properties: list(frame.properties) }
    : { ...frame, setProperties: list(frame.setProperties), getProperties: list(frame.getProperties) };
}

function decodeError(bytes: Buffer): FrameErrorCode {
  const result = decodeFrame(bytes);
  assert.equal(result.ok, false, 'expected a decode error');
  return result.ok ? ('none' as FrameErrorCode) : result.error.code;
}

describe('ECHONET Lite frame codec', () => {
  for (const [name, esv] of Object.entries(ESV)) {
    test(`round-trips ${name} (0x${esv.toString(16)})`, () => {
      const frame = frameFor(esv);
      const decoded = decodeFrame(encodeFrame(frame));
      assert.ok(decoded.ok);
      assert.deepEqual(plain(decoded.value), plain(frame));
    });
  }

  test('decodes a search (Get of node profile 0xD6) byte for byte', () => {
    const decoded = decodeFrame(hex('1081 0001 05ff01 0ef001 62 01 d600'));
    assert.ok(decoded.ok);
    assert.deepEqual(plain(decoded.value), {
      tid: 1,
      seoj: CONTROLLER_EOJ,
      deoj: NODE_PROFILE_EOJ,
      esv: ESV.Get,
      properties: [{ epc: 0xd6, edt: [] }],
    });
  });

  test('encodes a Get_Res exactly as the specification lays it out', () => {
    const frame: Frame = { tid: 0x1234, seoj: AIRCON, deoj: CONTROLLER_EOJ, esv: ESV.GetRes, properties: [{ epc: 0x80, edt: edt(0x30) }, { epc: 0xbb, edt: edt(0xfb) }] };
    assert.equal(encodeFrame(frame).toString('hex'), '1081123401300105ff017202800130bb01fb');
  });

  test('decodes SetGet with both property lists', () => {
    const decoded = decodeFrame(hex('1081 0002 05ff01 013001 6e 01 b30119 02 bb00 b300'));
    assert.ok(decoded.ok && 'setProperties' in decoded.value);
    assert.deepEqual(decoded.value.setProperties.map((p) => [p.epc, [...p.edt]]), [[0xb3, [0x19]]]);
    assert.deepEqual(decoded.value.getProperties.map((p) => p.epc), [0xbb, 0xb3]);
  });

  test('SetGet with an empty set list is accepted (only both empty is an error)', () => {
    assert.ok(decodeFrame(hex('1081 0002 05ff01 013001 6e 00 01 bb00')).ok);
  });

  test('keeps duplicate EPCs and wire order', () => {
    const decoded = decodeFrame(hex('1081 0003 013001 05ff01 72 03 b30119 800130 b3011a'));
    assert.ok(decoded.ok && 'properties' in decoded.value);
    assert.deepEqual(decoded.value.properties.map((p) => [p.epc, p.edt[0]]), [[0xb3, 0x19], [0x80, 0x30], [0xb3, 0x1a]]);
  });

  describe('rejects malformed frames with a typed error', () => {
    const cases: Array<[FrameErrorCode, string, string]> = [
      ['TOO_SHORT', 'empty', ''],
      ['TOO_SHORT', 'header without OPC', '1081 0001 05ff01 0ef001 62'],
      ['BAD_EHD1', 'not ECHONET Lite', '1181 0001 05ff01 0ef001 62 01 d600'],
      ['UNSUPPORTED_EHD2', 'arbitrary message format', '1082 0001 05ff01 0ef001 62 01 d600'],
      ['UNKNOWN_ESV', 'ESV 0x64', '1081 0001 05ff01 0ef001 64 01 d600'],
      ['NO_PROPERTIES', 'Get with OPC 0', '1081 0001 05ff01 0ef001 62 00'],
      ['NO_PROPERTIES', 'SetGet with OPCSet 0 and OPCGet 0', '1081 0001 05ff01 013001 6e 00 00'],
      ['TRUNCATED', 'OPC 2 but one property', '1081 0001 05ff01 0ef001 62 02 d600'],
      ['TRUNCATED', 'EPC without PDC', '1081 0001 05ff01 0ef001 62 01 d6'],
      ['TRUNCATED', 'SetGet without OPCGet', '1081 0001 05ff01 013001 6e 01 b30119'],
      ['EDT_OVERRUN', 'PDC beyond the end', '1081 0001 013001 05ff01 72 01 b305 1a'],
      ['EDT_OVERRUN', 'PDC 255 in a short frame', '1081 0001 013001 05ff01 72 01 b3ff'],
      ['TRAILING_BYTES', 'bytes after the last property', '1081 0001 05ff01 0ef001 62 01 d600 00'],
    ];
    for (const [code, what, bytes] of cases) {
      test(`${code}: ${what}`, () => assert.equal(decodeError(hex(bytes)), code));
    }
  });

  test('error results carry a human-readable message', () => {
    const result = decodeFrame(hex('1081 0001 013001 05ff01 72 01 b305 1a'));
    assert.ok(!result.ok);
    assert.match(result.error.message, /PDC 5/);
  });

  test('OPC 255 with 255 properties decodes; lengths come from the buffer, not the counts', () => {
    const properties = Array.from({ length: 255 }, (_, i) => ({ epc: 0x80 + (i % 0x80), edt: edt(i & 0xff) }));
    const decoded = decodeFrame(encodeFrame({ tid: 7, seoj: AIRCON, deoj: CONTROLLER_EOJ, esv: ESV.GetRes, properties }));
    assert.ok(decoded.ok && 'properties' in decoded.value);
    assert.equal(decoded.value.properties.length, 255);
  });

  test('a detached frame holds copies of its EDTs, not views into the datagram', () => {
    for (const esv of [ESV.Inf, ESV.SetGetRes]) {
      const datagram = encodeFrame(frameFor(esv));
      const decoded = decodeFrame(datagram);
      assert.ok(decoded.ok);
      const detached = detachedFrame(decoded.value);
      assert.deepEqual(plain(detached), plain(decoded.value));
      datagram.fill(0);
      assert.notDeepEqual(plain(detached), plain(decoded.value), 'the datagram is gone; the copy is not');
      for (const { edt } of allProperties(detached)) assert.equal(edt.buffer.byteLength, edt.length, 'each EDT owns just its bytes');
    }
  });

  test('encoding refuses frames our own code built wrong', () => {
    const ok = frameFor(ESV.Get);
    assert.throws(() => encodeFrame({ ...ok, tid: 0x10000 }), FrameEncodeError);
    assert.throws(() => encodeFrame({ ...ok, tid: -1 }), FrameEncodeError);
    assert.throws(() => encodeFrame({ ...ok, seoj: { classGroup: 256, classCode: 0, instance: 0 } }), FrameEncodeError);
    assert.throws(() => encodeFrame({ ...ok, esv: ESV.Get, properties: [] }), FrameEncodeError);
    assert.throws(() => encodeFrame({ ...ok, esv: ESV.Get, properties: [{ epc: 0x100, edt: edt() }] }), FrameEncodeError);
    assert.throws(() => encodeFrame({ ...ok, esv: ESV.SetC, properties: [{ epc: 0x80, edt: new Uint8Array(256) }] }), FrameEncodeError);
    assert.throws(() => encodeFrame({ ...ok, esv: ESV.GetRes, properties: Array.from({ length: 256 }, () => ({ epc: 0x80, edt: edt() })) }), FrameEncodeError);
  });
});
