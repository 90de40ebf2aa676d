import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONTROLLER_EOJ, NODE_PROFILE_EOJ, makeEoj } from '../../../../edge/echonet/eoj.js';
import { ESV } from '../../../../edge/echonet/esv.js';
import { type Frame, type Property, allProperties, encodeFrame, requestedEpcs } from '../../../../edge/echonet/frame.js';
import { decodeInstanceList } from '../../../../edge/echonet/properties-common.js';
import { decodePropertyMap } from '../../../../edge/echonet/property-map.js';
import { decodeProperties } from '../../../../edge/echonet/properties.js';
import { type AirconState, initialAirconState, remoteControlChange, stepAircon } from '../../../../edge/simulator/aircon-model.js';
import { type NodeQuirks, allQuirksMix, isWithin } from '../../../../edge/simulator/quirks.js';
import { seededRandom } from '../../../../shared/random.js';
import { SimulatedNode } from '../../../../edge/simulator/simulated-node.js';

const AIRCON = makeEoj(0x01, 0x30, 0x01);
const NODE_ID = 'feffffff00000000000000000000000001';

function node(overrides: Partial<AirconState> = {}, quirks: NodeQuirks = {}): SimulatedNode {
  const state = { ...initialAirconState(seededRandom(7)), operationStatus: true, operationMode: 'cooling' as const, targetTemperature: 24, roomTemperature: 28, ...overrides };
  return new SimulatedNode(NODE_ID, 'ffffff', state, quirks);
}

const request = (esv: typeof ESV.Get | typeof ESV.SetC | typeof ESV.SetI | typeof ESV.InfReq, deoj: typeof AIRCON, properties: Property[]): Frame => ({
  tid: 42,
  seoj: CONTROLLER_EOJ,
  deoj,
  esv,
  properties,
});
const get = (deoj: typeof AIRCON, ...epcs: number[]): Frame => request(ESV.Get, deoj, requestedEpcs(epcs));
const set = (esv: typeof ESV.SetC | typeof ESV.SetI, ...props: Array<[number, number[]]>): Frame =>
  request(esv, AIRCON, props.map(([epc, edt]) => ({ epc, edt: Uint8Array.from(edt) })));

function only(frames: Frame[]): Frame {
  assert.equal(frames.length, 1);
  return frames[0] as Frame;
}

describe('simulated node answers', () => {
  test('the search: Get of node profile 0xD6 lists its air conditioner', () => {
    const reply = only(node().handle(get(NODE_PROFILE_EOJ, 0xd6)).unicast);
    assert.equal(reply.esv, ESV.GetRes);
    assert.equal(reply.tid, 42);
    assert.deepEqual(reply.seoj, NODE_PROFILE_EOJ);
    assert.deepEqual(reply.deoj, CONTROLLER_EOJ);
    const list = decodeInstanceList(allProperties(reply)[0]?.edt ?? new Uint8Array());
    assert.ok(list.ok);
    assert.deepEqual(list.value, [AIRCON]);
  });

  test('node profile 0x83 is 0xFE + maker + 13 unique bytes', () => {
    const reply = only(node().handle(get(NODE_PROFILE_EOJ, 0x83, 0x8a)).unicast);
    assert.deepEqual(decodeProperties(NODE_PROFILE_EOJ, allProperties(reply)).properties, { id: NODE_ID, manufacturer: 'ffffff' });
  });

  test('Get of supported EPCs → Get_Res with the state', () => {
    const reply = only(node({ targetTemperature: 22, roomTemperature: -3.4 }).handle(get(AIRCON, 0x80, 0xb3, 0xbb)).unicast);
    assert.equal(reply.esv, ESV.GetRes);
    assert.deepEqual(decodeProperties(AIRCON, allProperties(reply)).properties, { operationStatus: true, targetTemperature: 22, roomTemperature: -3 });
  });

  test('Get including an unsupported EPC → Get_SNA with the others filled and PDC 0 for it', () => {
    const reply = only(node().handle(get(AIRCON, 0x80, 0xc0, 0xb3)).unicast);
    assert.equal(reply.esv, ESV.GetSna);
    assert.deepEqual(allProperties(reply).map((p) => [p.epc, p.edt.length]), [[0x80, 1], [0xc0, 0], [0xb3, 1]]);
  });

  test('Get map has 16+ properties and is therefore a bitmap', () => {
    const reply = only(node().handle(get(AIRCON, 0x9f)).unicast);
    const edt = allProperties(reply)[0]?.edt ?? new Uint8Array();
    assert.equal(edt.length, 17);
    const map = decodePropertyMap(edt);
    assert.ok(map.ok);
    for (const epc of [0x80, 0xb0, 0xb3, 0xbb, 0xba, 0xbe, 0xa0, 0x84, 0x85, 0x88]) assert.ok(map.value.includes(epc), `0x${epc.toString(16)}`);
  });

  test('SetC → Set_Res with PDC 0, state changed, change announced by INF', () => {
    const sim = node({ targetTemperature: 24 });
    const replies = sim.handle(set(ESV.SetC, [0xb3, [20]]));
    const reply = only(replies.unicast);
    assert.equal(reply.esv, ESV.SetRes);
    assert.deepEqual(allProperties(reply).map((p) => [p.epc, p.edt.length]), [[0xb3, 0]]);
    assert.equal(sim.state.targetTemperature, 20);
    const inf = only(replies.multicast);
    assert.equal(inf.esv, ESV.Inf);
    assert.deepEqual(decodeProperties(AIRCON, allProperties(inf)).properties, { targetTemperature: 20 });
  });

  test('SetC of a read-only or invalid value → SetC_SNA echoing the refused EDT, PDC 0 for accepted ones', () => {
    const sim = node({ targetTemperature: 24 });
    const reply = only(sim.handle(set(ESV.SetC, [0xb0, [0x43]], [0xbb, [20]], [0xb3, [0xfd]])).unicast);
    assert.equal(reply.esv, ESV.SetCSna);
    assert.deepEqual(allProperties(reply).map((p) => [p.epc, [...p.edt]]), [[0xb0, []], [0xbb, [20]], [0xb3, [0xfd]]]);
    assert.equal(sim.state.operationMode, 'heating');
    assert.equal(sim.state.targetTemperature, 24);
  });

  test('SetI answers only on failure', () => {
    const sim = node();
    assert.deepEqual(sim.handle(set(ESV.SetI, [0x80, [0x31]])).unicast, []);
    assert.equal(sim.state.operationStatus, false);
    assert.equal(only(sim.handle(set(ESV.SetI, [0x80, [0x99]])).unicast).esv, ESV.SetISna);
  });

  test('SetGet → SetGet_Res with both lists', () => {
    const frame: Frame = { tid: 9, seoj: CONTROLLER_EOJ, deoj: AIRCON, esv: ESV.SetGet, setProperties: [{ epc: 0xb3, edt: Uint8Array.of(21) }], getProperties: requestedEpcs([0xb3]) };
    const reply = only(node().handle(frame).unicast);
    assert.equal(reply.esv, ESV.SetGetRes);
    assert.ok('getProperties' in reply);
    assert.deepEqual([...(reply.getProperties[0]?.edt ?? [])], [21]);
  });

  test('INF_REQ is answered by a multicast INF with the same TID', () => {
    const replies = node().handle(request(ESV.InfReq, AIRCON, requestedEpcs([0x80])));
    assert.deepEqual(replies.unicast, []);
    const inf = only(replies.multicast);
    assert.equal(inf.esv, ESV.Inf);
    assert.equal(inf.tid, 42);
  });

  test('instance 0 addresses every instance; other objects get no answer', () => {
    assert.equal(only(node().handle(get(makeEoj(0x01, 0x30, 0x00), 0x80)).unicast).esv, ESV.GetRes);
    assert.deepEqual(node().handle(get(makeEoj(0x01, 0x30, 0x02), 0x80)).unicast, []);
    assert.deepEqual(node().handle(get(makeEoj(0x02, 0x88, 0x01), 0x80)).unicast, []);
  });

  test('quirk maxGetBatch: SNA refuses big batches wholesale, truncate answers the first N', () => {
    const epcs = [0x80, 0xb0, 0xb3, 0xbb, 0xba];
    const sna = only(node({}, { maxGetBatch: { size: 3, behaviour: 'sna' } }).handle(get(AIRCON, ...epcs)).unicast);
    assert.equal(sna.esv, ESV.GetSna);
    assert.ok(allProperties(sna).every((p) => p.edt.length === 0));
    const truncated = only(node({}, { maxGetBatch: { size: 3, behaviour: 'truncate' } }).handle(get(AIRCON, ...epcs)).unicast);
    assert.deepEqual(allProperties(truncated).map((p) => p.epc), [0x80, 0xb0, 0xb3]);
  });

  test('boot announcement is INF 0xD5 from the node profile, and encodes', () => {
    const boot = node().bootAnnouncement();
    assert.ok(boot);
    assert.equal(boot.esv, ESV.Inf);
    assert.deepEqual(boot.seoj, NODE_PROFILE_EOJ);
    assert.deepEqual(allProperties(boot).map((p) => p.epc), [0xd5]);
    assert.doesNotThrow(() => encodeFrame(boot));
  });

  test('update() announces only INF-map properties that changed', () => {
    const sim = node({ operationStatus: true });
    assert.deepEqual(sim.update({ roomTemperature: 20 }), []); // not in the INF map
    const [inf] = sim.update({ operationStatus: false, operationMode: 'heating' });
    assert.ok(inf);
    assert.deepEqual(decodeProperties(AIRCON, allProperties(inf)).properties, { operationStatus: false, operationMode: 'heating' });
  });
});

function mapOf(sim: SimulatedNode, eoj: typeof AIRCON, epc: number): { bytes: number; epcs: readonly number[] } {
  const edt = allProperties(only(sim.handle(get(eoj, epc)).unicast))[0]?.edt ?? new Uint8Array();
  const map = decodePropertyMap(edt);
  assert.ok(map.ok, `map 0x${epc.toString(16)}`);
  return { bytes: edt.length, epcs: map.value };
}

describe('simulated node quirks', () => {
  test('without extended maps the INF and Set maps are short lists', () => {
    for (const epc of [0x9d, 0x9e]) assert.ok(mapOf(node(), AIRCON, epc).bytes < 17, `0x${epc.toString(16)}`);
  });

  test('extendedPropertyMaps: INF, Set and Get maps all have 16+ entries, travel as bitmaps, and the extras work', () => {
    const sim = node({}, { extendedPropertyMaps: true });
    for (const epc of [0x9d, 0x9e, 0x9f]) {
      const map = mapOf(sim, AIRCON, epc);
      assert.equal(map.bytes, 17, `0x${epc.toString(16)} is a bitmap`);
      assert.ok(map.epcs.length >= 16, `0x${epc.toString(16)} has ${map.epcs.length} entries`);
    }
    const replies = sim.handle(set(ESV.SetC, [0xb5, [25]]));
    assert.equal(only(replies.unicast).esv, ESV.SetRes);
    assert.deepEqual(allProperties(only(replies.multicast)).map((p) => [p.epc, [...p.edt]]), [[0xb5, [25]]], 'announced, being in the INF map');
    assert.deepEqual([...(allProperties(only(sim.handle(get(AIRCON, 0xb5)).unicast))[0]?.edt ?? [])], [25]);
  });

  test('temperatureSensor: a second object of class 0x0011, listed by the node profile, reporting the room in 0.1 °C', () => {
    const sim = node({ roomTemperature: 23.44 }, { temperatureSensor: true });
    const sensor = makeEoj(0x00, 0x11, 0x01);
    const profile = decodeProperties(NODE_PROFILE_EOJ, allProperties(only(sim.handle(get(NODE_PROFILE_EOJ, 0xd3, 0xd4, 0xd6, 0xd7)).unicast))).properties;
    assert.deepEqual(profile, { selfNodeInstances: 2, selfNodeClasses: 3, selfNodeInstanceListS: '013001,001101', selfNodeClassListS: '0130,0011' });
    const reply = only(sim.handle(get(sensor, 0x80, 0xe0)).unicast);
    assert.equal(reply.esv, ESV.GetRes);
    assert.deepEqual(allProperties(reply).map((p) => Buffer.from(p.edt).toString('hex')), ['30', '00ea']);
    assert.ok(mapOf(sim, sensor, 0x9f).epcs.includes(0xe0));
  });

  test('every remote-control change is announced by INF', () => {
    const sim = node();
    const random = seededRandom(11);
    for (let i = 0; i < 50; i++) {
      const [inf] = sim.update(remoteControlChange(sim.state, random));
      assert.equal(inf?.esv, ESV.Inf, `change ${i}`);
    }
    assert.ok(sim.state.targetTemperature >= 19 && sim.state.targetTemperature <= 29);
  });

  test('the all-quirks mix switches every quirk on across twelve nodes, with timed quirks inside the run', () => {
    const runMs = 600_000;
    const mix = Object.values(allQuirksMix(12, runMs));
    const used = new Set(mix.flatMap((quirks) => Object.keys(quirks)));
    const every: ReadonlyArray<keyof NodeQuirks> = [
      'replyDelayMs', 'dropRequestRate', 'maxGetBatch', 'vendorEpcs', 'noIdentificationNumber', 'extendedPropertyMaps',
      'silentBetween', 'deafBetween', 'moveAfterMs', 'remoteControlEveryMs', 'temperatureSensor',
      'ignoreGetsOver', 'swapAfterMs', 'takeOverAddressOf', 'placeholderIdentificationNumber',
    ];
    assert.deepEqual(every.filter((quirk) => !used.has(quirk)), []);
    assert.deepEqual(mix[0], {}, 'node 0 is the well-behaved baseline');
    const behaviours = new Set(mix.flatMap((quirks) => (quirks.maxGetBatch ? [quirks.maxGetBatch.behaviour] : [])));
    assert.deepEqual([...behaviours].sort(), ['sna', 'truncate']);
    for (const quirks of mix) {
      for (const window of [quirks.silentBetween, quirks.deafBetween]) {
        if (window) assert.ok(window.fromMs > 0 && (window.toMs ?? 0) < runMs);
      }
      if (quirks.moveAfterMs !== undefined) assert.ok(quirks.moveAfterMs < runMs);
    }
    assert.deepEqual(mix[8]?.takeOverAddressOf, { node: 7, afterMs: 0.55 * runMs }, 'the unit without 0x83 takes the address the moving unit left');
    assert.ok((mix[9]?.swapAfterMs ?? runMs) < runMs && mix[9]?.vendorEpcs === true && mix[10]?.vendorEpcs === undefined, 'a swap with a unit lacking its vendor EPCs');
    assert.equal(mix[10]?.ignoreGetsOver, 3, 'the partner also drops big Gets without a word');
    assert.deepEqual(allQuirksMix(24, runMs)[12], {}, 'the profiles repeat');
  });

  test('time windows: from inclusive, to exclusive, open-ended without an end', () => {
    assert.deepEqual([99, 100, 199, 200].map((t) => isWithin({ fromMs: 100, toMs: 200 }, t)), [false, true, true, false]);
    assert.equal(isWithin({ fromMs: 100 }, 1e12), true);
    assert.equal(isWithin(undefined, 0), false);
  });
});

describe('air conditioner physics', () => {
  const base: AirconState = { ...initialAirconState(seededRandom(1)), operationStatus: true, operationMode: 'cooling', targetTemperature: 24, roomTemperature: 30, outdoorTemperature: 32, airFlowLevel: 'auto' };

  test('a running unit cools the room towards the target and draws power', () => {
    const later = stepAircon(base, 5 * 60_000);
    assert.ok(later.roomTemperature < 30 && later.roomTemperature >= 24, `room ${later.roomTemperature}`);
    assert.ok(later.instantaneousElectricPowerConsumption > 0);
    assert.ok(later.consumedCumulativeElectricEnergy > base.consumedCumulativeElectricEnergy);
  });

  test('it never overshoots the target', () => {
    assert.equal(stepAircon(base, 10 * 60 * 60_000).roomTemperature, 24);
  });

  test('a unit that is off draws nothing and the room drifts towards outdoors', () => {
    const off = stepAircon({ ...base, operationStatus: false }, 10 * 60_000);
    assert.equal(off.instantaneousElectricPowerConsumption, 0);
    assert.ok(off.roomTemperature > 30 && off.roomTemperature <= 32);
  });

  test('a running unit in its initial state already reports power', () => {
    const state = initialAirconState(seededRandom(3));
    assert.equal(state.instantaneousElectricPowerConsumption > 0, state.operationStatus);
  });
});
