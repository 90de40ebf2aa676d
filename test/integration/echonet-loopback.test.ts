/**
 * Controller and simulator over real UDP on loopback (the rig is test/support/echonet-rig.ts):
 * discovery, polling, INF, Set, the gateway's own node.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { afterEach, describe, mock, test } from 'node:test';
import { NODE_PROFILE_EOJ, makeEoj } from '../../edge/echonet/eoj.js';
import { ESV } from '../../edge/echonet/esv.js';
import { type Frame, allProperties, decodeFrame, encodeFrame, requestedEpcs } from '../../edge/echonet/frame.js';
import { type GetReader, LocalNode, nodeProfileObject, readAll, refuseAll } from '../../edge/echonet/local-node.js';
import { decodeProperties } from '../../edge/echonet/properties.js';
import { NEW_NODE_STEP_MS } from '../../edge/echonet/controller.js';
import { FIRST_POLL_STEP_MS } from '../../edge/echonet/poller.js';
import { EchonetTransport } from '../../edge/echonet/transport.js';
import { initialAirconState } from '../../edge/simulator/aircon-model.js';
import { airconObject } from '../../edge/simulator/device-objects.js';
import type { SimulatedNodeHandle } from '../../edge/simulator/simulator.js';
import type { Observation } from '../../shared/reading.js';
import { type ControllerRig, type Rig, INTERFACE, logger, onFreePort, openController, openSimulator, startRig, stopAfterTest, stopOpened } from '../support/echonet-rig.js';
import { sleep, waitFor } from '../support/wait.js';

afterEach(stopOpened);

function latestPoll(rig: Rig, deviceId: string): Observation | undefined {
  return rig.observations.findLast((o) => o.deviceId === deviceId && o.kind === 'poll');
}

describe('ECHONET Lite controller against the simulator on loopback', () => {
  test('discovers all three air conditioners by their identification numbers and polls their state', async () => {
    const rig = await startRig();
    const expectedIds = rig.sim.nodes.map((n) => n.deviceId).sort();
    assert.ok(expectedIds.every((id) => /^fe[0-9a-f]{32}-013001$/.test(id)), 'simulator ids are 0x83-based');
    await waitFor('three devices', () => rig.controller.devices().length === 3);
    assert.deepEqual(rig.controller.devices().map((d) => d.deviceId).sort(), expectedIds);

    for (const node of rig.sim.nodes) {
      const observation = await waitFor(`a poll of ${node.address}`, () => latestPoll(rig, node.deviceId));
      const reported = node.reported();
      assert.equal(observation.address, node.address);
      assert.equal(observation.eoj, '013001');
      assert.match(observation.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      for (const name of ['operationStatus', 'targetTemperature', 'roomTemperature', 'operationMode', 'humidity', 'faultStatus'] as const) {
        assert.equal(observation.properties[name], reported[name], `${node.address} ${name}`);
      }
      assert.equal(observation.raw['80'], reported.operationStatus ? '30' : '31');
      const device = rig.controller.registry.get(node.deviceId);
      assert.equal(device?.address, node.address);
      assert.equal(device?.manufacturer, 'ffffff');
      assert.ok(device?.maps.get?.includes(0xbb), 'Get map read (bitmap form)');
      assert.equal(device?.availability, 'online');
    }
  });

  test('an INF from a unit arrives as an observation of kind inf', async () => {
    const rig = await startRig();
    await waitFor('three devices', () => rig.controller.devices().length === 3);
    const node = rig.sim.nodes[1];
    assert.ok(node);
    const target = node.state().targetTemperature === 19 ? 18 : 19;
    await node.update({ targetTemperature: target, operationStatus: true });
    const inf = await waitFor('the INF', () => rig.observations.find((o) => o.kind === 'inf' && o.deviceId === node.deviceId && o.properties.targetTemperature === target));
    assert.equal(inf.address, node.address);
    assert.equal(inf.raw.b3, target.toString(16).padStart(2, '0'));
    assert.equal(rig.controller.registry.get(node.deviceId)?.latest?.properties.targetTemperature, target);
  });

  test('setProperties changes the unit, which announces the change', async () => {
    const rig = await startRig();
    await waitFor('three devices', () => rig.controller.devices().length === 3);
    const node = rig.sim.nodes[2];
    assert.ok(node);
    const outcome = await rig.controller.setProperties(node.deviceId, { operationMode: 'heating', targetTemperature: 27 });
    assert.deepEqual(outcome, { ok: true });
    assert.equal(node.state().operationMode, 'heating');
    assert.equal(node.state().targetTemperature, 27);
    await waitFor('the INF of the change', () => rig.observations.find((o) => o.kind === 'inf' && o.deviceId === node.deviceId && o.properties.operationMode === 'heating'));
    const refused = await rig.controller.setProperties(node.deviceId, { targetTemperature: 99 });
    assert.equal(refused.ok, false);
    assert.equal(await rig.controller.setProperties('nobody-013001', { targetTemperature: 20 }).then((o) => o.ok), false);
  });

  test('INFC is acknowledged with INFC_Res; junk is counted, not thrown', async () => {
    const rig = await startRig({ nodes: 1 });
    const peer = dgram.createSocket({ type: 'udp4' });
    stopAfterTest(() => new Promise((resolve) => peer.close(() => resolve())));
    await new Promise<void>((resolve) => peer.bind({ address: '127.0.0.9', port: rig.port }, resolve));
    const replies: Buffer[] = [];
    peer.on('message', (message) => replies.push(message));

    const infc = encodeFrame({ tid: 0x4242, seoj: makeEoj(0x01, 0x30, 0x01), deoj: makeEoj(0x05, 0xff, 0x01), esv: ESV.Infc, properties: [{ epc: 0x80, edt: Uint8Array.of(0x30) }] });
    peer.send(infc, rig.port, INTERFACE);
    const ack = await waitFor('INFC_Res', () => replies.map((m) => decodeFrame(m)).find((d) => d.ok && d.value.esv === ESV.InfcRes));
    assert.ok(ack.ok);
    assert.equal(ack.value.tid, 0x4242);

    const before = rig.controller.counters().transport.malformedFrames;
    for (const junk of ['', '1081', 'deadbeefdeadbeefdeadbeefdeadbeef', '1081000105ff010ef00162ff']) peer.send(Buffer.from(junk, 'hex'), rig.port, INTERFACE);
    await waitFor('junk counted', () => rig.controller.counters().transport.malformedFrames >= before + 4);
    await waitFor('the controller still works', () => rig.controller.devices().length === 1);
  });
});

/** The air conditioners' device ids, sorted. */
const aircons = (rig: ControllerRig): string[] =>
  rig.controller
    .devices()
    .filter((d) => d.eoj === '013001')
    .map((d) => d.deviceId)
    .sort();

describe('finding devices', () => {
  test('static addresses are probed by unicast where multicast does not reach, at start and every search interval', async () => {
    const rig = await onFreePort(async (port) => {
      const sim = await openSimulator(port, { nodes: 2 });
      // A group nobody else is on: our searches go unanswered and the nodes' INFs never reach us.
      const controller = await openController(port, { multicastGroup: '224.0.23.77', staticAddresses: ['127.0.0.2', '127.0.0.3', '127.0.0.4'], searchIntervalMs: 600 });
      return { sim, ...controller };
    });
    await waitFor('the two static nodes', () => aircons(rig).length === 2);
    assert.deepEqual(aircons(rig), rig.sim.nodes.map((n) => n.deviceId).sort());

    // A unit plugged in later at a listed address is found by the next round of probes.
    const late = await openSimulator(rig.port, { nodes: 1, baseAddress: '127.0.0.4', seed: 2 });
    const lateId = late.nodes[0]?.deviceId;
    await waitFor('the late node', () => aircons(rig).includes(lateId ?? ''), 3_000);
    assert.equal(await rig.controller.searchNow(), 3, 'searchNow counts the nodes that answered a probe');
  });

  test('an INF 0xD5 announcement alone finds a node; searches repeat on demand', async () => {
    const rig = await onFreePort(async (port) => openController(port, { searchIntervalMs: 60_000 }));
    await sleep(300); // the search at start ends without anyone answering
    const sim = await openSimulator(rig.port, { nodes: 1 });
    const [node] = sim.nodes;
    assert.ok(node);
    await waitFor('the announced node', () => aircons(rig).includes(node.deviceId));
    assert.equal(rig.controller.counters().searches, 1, 'found without a second search');
    assert.equal(await rig.controller.searchNow(), 1);
    assert.equal(rig.controller.counters().searches, 2);
  });

  test('searches repeat every search interval', async () => {
    const rig = await startRig({ nodes: 1 }, { searchIntervalMs: 250, searchWindowMs: 100 });
    await waitFor('four searches', () => rig.controller.counters().searches >= 4, 3_000);
  });

  test('a search answered with the id and instances known at an address costs no new description', async () => {
    const rig = await startRig({}, { searchIntervalMs: 300, searchWindowMs: 100 });
    await waitFor('three devices', () => aircons(rig).length === 3);
    const descriptions = (): number[] => rig.sim.nodes.map((n) => n.served('0ef001').filter((s) => s.kind === 'poll' && s.raw['8a'] !== undefined).length);
    const before = { descriptions: descriptions(), searches: rig.controller.counters().searches };
    await sleep(1_500);
    assert.ok(rig.controller.counters().searches >= before.searches + 3, 'searches went on');
    assert.deepEqual(descriptions(), before.descriptions);
  });

  test('a search notices at once that another node answers at a known address', async () => {
    const rig = await startRig({ nodes: 1 }, { searchIntervalMs: 60_000 });
    const [first] = rig.sim.nodes;
    assert.ok(first);
    await waitFor('the first unit', () => rig.controller.registry.get(first.deviceId));
    await rig.sim.stop();
    // Another unit takes the address without announcing itself: it is quiet for its first 200 ms.
    const replacement = await openSimulator(rig.port, { nodes: 1, seed: 2, quirks: { silentBetween: { fromMs: 0, toMs: 200 } } });
    const [second] = replacement.nodes;
    assert.ok(second && second.address === first.address && second.deviceId !== first.deviceId);
    await sleep(300);
    assert.equal(rig.controller.registry.get(second.deviceId), undefined, 'not found without a search');
    assert.equal(await rig.controller.searchNow(), 1);
    await waitFor('the new unit', () => rig.controller.registry.get(second.deviceId), 1_000);
  });

  test('a search has a node described again while one of its objects still lacks its property maps', async () => {
    // A unit scripted here (not the simulator), so that it can refuse its maps for a while.
    const identity = { nodeId: 'feffffff00000000000000000000000042', makerCode: 'ffffff' };
    const aircon = airconObject(identity, { state: initialAirconState(() => 0.5) }, { vendorEpcs: false, extendedPropertyMaps: false });
    const unit = new LocalNode([nodeProfileObject(identity, [aircon.eoj]), aircon]);
    const maps = new Set([0x9d, 0x9e, 0x9f]);
    let refuseMaps = true;
    const readGet: GetReader = (target, epcs) => (refuseMaps && target === aircon && epcs.some((epc) => maps.has(epc)) ? refuseAll(epcs) : readAll(target, epcs));
    const rig = await onFreePort(async (port) => {
      const peer = new EchonetTransport({ interfaceAddress: '127.0.0.9', multicastInterface: INTERFACE, port, logger });
      peer.onFrame((received) => {
        for (const reply of unit.handle(received.frame, readGet).unicast) void peer.send(received.address, reply);
      });
      await peer.open();
      stopAfterTest(() => peer.close());
      return openController(port, { searchIntervalMs: 300, searchWindowMs: 100 });
    });
    const deviceId = `${identity.nodeId}-013001`;
    const device = await waitFor('the unit, known without its maps', () => rig.controller.registry.get(deviceId));
    assert.equal(device.maps.get, null);
    refuseMaps = false;
    await waitFor('its maps, read at a later search', () => rig.controller.registry.get(deviceId)?.maps.get ?? undefined, 2_000);
  });

  test('a search ends soon after the last answer instead of waiting out its window', async () => {
    const rig = await startRig({}, { searchWindowMs: 10_000, searchQuietMs: 150 });
    const started = Date.now();
    assert.equal(await rig.controller.searchNow(), 3);
    assert.ok(Date.now() - started < 2_000, `search took ${Date.now() - started} ms`);
  });

  test('40 air conditioners on distinct addresses are found within 5 s and polled with one Get each per cycle', async () => {
    const intervalMs = 400;
    const rig = await onFreePort(async (port) => {
      const sim = await openSimulator(port, { nodes: 40, baseAddress: '127.0.1.2' });
      const started = Date.now();
      const controller = await openController(port, { pollIntervalMs: intervalMs, searchIntervalMs: 60_000 });
      return { sim, started, ...controller };
    });
    await waitFor('40 devices', () => aircons(rig).length === 40, 5_000);
    assert.ok(Date.now() - rig.started < 5_000);
    await waitFor('every device polled', () => new Set(rig.observations.map((o) => o.deviceId)).size === 40);
    const pollsOf = (): number[] => rig.sim.nodes.map((n) => n.served().filter((s) => s.kind === 'poll').length);
    const before = pollsOf();
    await sleep(5 * intervalMs);
    const gets = pollsOf().map((count, i) => count - (before[i] ?? 0));
    assert.ok(gets.every((n) => n >= 4 && n <= 6), `Gets per node in 5 cycles: ${gets.join(' ')}`);
  });
});

/** When an object of a unit answered our Gets, oldest first. */
const getAnswerTimes = (node: SimulatedNodeHandle, eoj = node.eoj): number[] => node.served(eoj).flatMap((s) => (s.kind === 'poll' ? [s.at.getTime()] : []));
/** When a unit answered our Gets of its air conditioner's state (not of its maps), oldest first. */
const pollAnswerTimes = (node: SimulatedNodeHandle): number[] =>
  node.served().flatMap((s) => (s.kind === 'poll' && s.raw['80'] !== undefined ? [s.at.getTime()] : []));
const gaps = (times: readonly number[]): number[] => times.slice(1).map((t, i) => t - (times[i] as number));

describe('pacing', () => {
  test('frames to one unit are at least the gap apart, also when a poll takes ten Gets', async () => {
    const minFrameGapMs = 40;
    const rig = await startRig({ nodes: 1, quirks: { maxGetBatch: { size: 1, behaviour: 'sna' } } }, { minFrameGapMs, pollIntervalMs: 300, searchIntervalMs: 60_000 });
    const [node] = rig.sim.nodes;
    assert.ok(node);
    await waitFor('two polls', () => rig.observations.filter((o) => o.kind === 'poll').length >= 2, 8_000);
    // Answers to multicast searches (refused wholesale by this unit, so without values) go through no node's channel.
    const described = node.served('0ef001').flatMap((s) => (s.kind === 'poll' && Object.keys(s.raw).length > 0 ? [s.at.getTime()] : []));
    const answers = [...getAnswerTimes(node), ...described].sort((a, b) => a - b);
    assert.ok(answers.length >= 15, `${answers.length} answers`);
    // Answers leave as the requests arrive, give or take the event loop's jitter (the unit shares our
    // process); without pacing they would follow each other within a millisecond or two.
    const between = gaps(answers);
    assert.ok(between.every((gap) => gap >= 0.75 * minFrameGapMs), `gaps ${between.join(', ')} ms`);
    assert.ok((answers.at(-1) as number) - (answers[0] as number) >= between.length * minFrameGapMs - 5, `gaps ${between.join(', ')} ms`);
  });

  test('units found by one search are described in turn and first polled a step apart, and keep those phases', async () => {
    const nodes = 12;
    const intervalMs = 1_000;
    const rig = await startRig({ nodes }, { pollIntervalMs: intervalMs, searchIntervalMs: 60_000, firstSearchRetryMs: 60_000 });
    await waitFor('three polls of every unit', () => rig.sim.nodes.every((n) => pollAnswerTimes(n).length >= 3), 6_000);
    const describedAt = rig.sim.nodes.map((n) => n.served('0ef001').find((s) => s.kind === 'poll' && s.raw['8a'] !== undefined)?.at.getTime() as number).sort((a, b) => a - b);
    // In turn, not at once (all at once they span a millisecond or two). Timers on a loaded machine
    // fire late and then bunch, so one step may come out at 0 ms and the next at 8: the span is what
    // shows the pacing, with room for that jitter.
    assert.ok((describedAt.at(-1) as number) - (describedAt[0] as number) >= ((nodes - 1) * NEW_NODE_STEP_MS) / 2, `described at ${gaps(describedAt).join(', ')} ms apart`);
    // The first poll of a unit may wait for the frame gap after its description; its phase shows from the second on.
    for (const cycle of [1, 2]) {
      const times = rig.sim.nodes.map((n) => pollAnswerTimes(n)[cycle] as number).sort((a, b) => a - b);
      assert.ok(gaps(times).every((gap) => gap >= FIRST_POLL_STEP_MS / 2), `cycle ${cycle + 1}: gaps ${gaps(times).join(', ')} ms`);
    }
  });
});

describe('other classes', () => {
  test('a temperature sensor is recorded with its maps and polled modestly for its raw values', async () => {
    const rig = await startRig({ nodes: 1, quirks: { temperatureSensor: true } }, { otherClassPollIntervalMs: 2_000 });
    const [node] = rig.sim.nodes;
    assert.ok(node);
    const sensorId = `${node.nodeId ?? ''}-001101`;
    assert.deepEqual(node.devices().map((d) => d.deviceId), [node.deviceId, sensorId]);
    const sensor = await waitFor('the sensor', () => rig.controller.registry.get(sensorId));
    assert.equal(sensor.eoj, '001101');
    assert.ok(sensor.maps.get?.includes(0xe0));
    const reading = await waitFor('a sensor reading', () => rig.observations.find((o) => o.deviceId === sensorId && o.kind === 'poll'));
    assert.equal(reading.raw.e0, node.served('001101').find((s) => s.kind === 'poll' && s.raw.e0 !== undefined)?.raw.e0);
    assert.equal(reading.properties.operationStatus, true, 'super-class properties are named');
    assert.equal(Object.keys(reading.raw).includes('9f'), false, 'maps are not polled');
    await sleep(1_200);
    const polls = (deviceId: string) => rig.observations.filter((o) => o.deviceId === deviceId && o.kind === 'poll').length;
    assert.equal(polls(sensorId), 1, 'the sensor once per 2 s');
    assert.ok(polls(node.deviceId) >= 5, 'the air conditioner every 200 ms');
  });
});

describe("the controller's own node", () => {
  test('announces itself at start and answers Gets of its node profile', async () => {
    const nodeId = 'feffffff000000000000000000000000aa';
    const { rig, peer, heard } = await onFreePort(async (port) => {
      // Another node on the LAN, there before the controller starts.
      const peer = new EchonetTransport({ interfaceAddress: '127.0.0.9', multicastInterface: INTERFACE, port, logger });
      const heard: Frame[] = [];
      peer.onFrame((received) => {
        if (received.address === INTERFACE) heard.push(received.frame);
      });
      await peer.open();
      stopAfterTest(() => peer.close());
      return { rig: await openController(port, { identificationNumber: nodeId }), peer, heard };
    });
    const announcement = await waitFor('the INF 0xD5', () => heard.find((f) => f.esv === ESV.Inf));
    assert.deepEqual(decodeProperties(NODE_PROFILE_EOJ, allProperties(announcement)).properties, { instanceListNotification: '05ff01' });

    const wanted = [0x80, 0x82, 0x83, 0x8a, 0x9d, 0x9e, 0x9f, 0xd3, 0xd4, 0xd6, 0xd7];
    const answer = await peer.request(INTERFACE, { seoj: makeEoj(0x01, 0x30, 0x01), deoj: NODE_PROFILE_EOJ, esv: ESV.Get, properties: requestedEpcs(wanted) }, 1_000);
    assert.equal(answer.frame.esv, ESV.GetRes);
    const { properties } = decodeProperties(NODE_PROFILE_EOJ, allProperties(answer.frame));
    assert.equal(properties.id, nodeId);
    assert.equal(properties.selfNodeInstanceListS, '05ff01');
    assert.deepEqual(allProperties(answer.frame).map((p) => p.epc), wanted);
    assert.equal(rig.controller.counters().requestsAnswered, 1);
  });

  test('a bug while answering a request is logged and counted; the controller goes on', async () => {
    const { rig, peer } = await onFreePort(async (port) => {
      const peer = new EchonetTransport({ interfaceAddress: '127.0.0.9', multicastInterface: INTERFACE, port, logger });
      await peer.open();
      stopAfterTest(() => peer.close());
      return { rig: await openController(port), peer };
    });
    const getId = { seoj: makeEoj(0x01, 0x30, 0x01), deoj: NODE_PROFILE_EOJ, esv: ESV.Get, properties: requestedEpcs([0x83]) } as const;
    const broken = mock.method(LocalNode.prototype, 'handle', () => {
      throw new Error('a bug in the answer rules');
    });
    try {
      await assert.rejects(peer.request(INTERFACE, getId, 300), /no answer/);
      assert.equal(rig.controller.counters().internalErrors, 1);
    } finally {
      broken.mock.restore();
    }
    assert.equal((await peer.request(INTERFACE, getId, 1_000)).frame.esv, ESV.GetRes, 'the next request is answered');
  });
});
