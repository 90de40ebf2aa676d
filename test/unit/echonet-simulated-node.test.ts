import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONTROLLER_EOJ, NODE_PROFILE_EOJ, makeEoj } from '../../edge/echonet/eoj.js';
import { ESV } from '../../edge/echonet/esv.js';
import { type Frame, type Property, allProperties, encodeFrame, requestedEpcs } from '../../edge/echonet/frame.js';
import { decodeInstanceList } from '../../edge/echonet/properties-common.js';
import { decodePropertyMap } from '../../edge/echonet/property-map.js';
import { decodeProperties } from '../../edge/echonet/properties.js';
import { type AirconState, initialAirconState, stepAircon } from '../../edge/simulator/aircon-model.js';
import { seededRandom } from '../../edge/simulator/random.js';
import { SimulatedNode } from '../../edge/simulator/simulated-node.js';

const AIRCON = makeEoj(0x01, 0x30, 0x01);
const NODE_ID = 'feffffff00000000000000000000000001';

function node(overrides: Partial<AirconState> = {}, quirks = {}): SimulatedNode {
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
