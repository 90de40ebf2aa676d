/**
 * The field's misbehaviours, reproduced with the simulator's quirks on loopback: mute units, address
 * moves, units that truncate or refuse big Gets, vendor EPCs, nodes without an identification number.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { afterEach, describe, test } from 'node:test';
import type { Availability, DeviceEvent, EchonetControllerOptions } from '../../edge/echonet/controller.js';
import { NODE_PROFILE_EOJ, makeEoj } from '../../edge/echonet/eoj.js';
import { ESV } from '../../edge/echonet/esv.js';
import { type Frame, encodeFrame } from '../../edge/echonet/frame.js';
import { InMemoryDeviceRegistry } from '../../edge/echonet/registry.js';
import { type SimulatedNodeHandle, type SimulatorOptions, allQuirksMix } from '../../edge/simulator/simulator.js';
import { type Rig, INTERFACE, onFreePort, openController, openSimulator, pollCount as polls, startRig as startLoopbackRig, stopOpened } from '../support/echonet-rig.js';
import { sleep, waitFor as waitUntil } from '../support/wait.js';

afterEach(stopOpened);

const waitFor = <T>(what: string, probe: () => T | undefined | false, timeoutMs = 8_000): Promise<T> => waitUntil(what, probe, timeoutMs);

/** Timeouts short enough that a mute unit is noticed within a second. */
const startRig = (simOptions: Partial<SimulatorOptions> = {}, controllerOptions: Partial<EchonetControllerOptions> = {}): Promise<Rig> =>
  startLoopbackRig(simOptions, { searchIntervalMs: 5_000, requestTimeoutMs: 150, retryBaseDelayMs: 30, ...controllerOptions });

const availabilityEvent = (rig: Rig, deviceId: string, to: Availability): DeviceEvent | undefined =>
  rig.events.find((e) => e.type === 'availability' && e.device.deviceId === deviceId && e.device.availability === to);

describe('controller resilience on loopback', () => {
  test('a unit that stops answering goes offline without holding up the others, and comes back online', async () => {
    const rig = await startRig();
    await waitFor('three devices', () => rig.controller.devices().length === 3);
    const [mute, ...others] = rig.sim.nodes;
    assert.ok(mute);
    mute.setSilent(true);
    const since = Date.now();
    await waitFor('offline event', () => availabilityEvent(rig, mute.deviceId, 'offline'));
    await sleep(1_000);
    for (const node of others) {
      // 200 ms poll interval: a mute neighbour must not cost the others their cadence.
      assert.ok(polls(rig, node.deviceId, since) >= 4, `${node.address} polled ${polls(rig, node.deviceId, since)} times`);
    }
    assert.equal(rig.controller.registry.get(mute.deviceId)?.availability, 'offline');
    assert.ok(rig.controller.counters().transport.requestTimeouts > 0);
    mute.setSilent(false);
    const back = await waitFor('online event', () => availabilityEvent(rig, mute.deviceId, 'online'));
    assert.equal(back.type === 'availability' ? back.from : undefined, 'offline');
  });

  test('a unit that moves to a new address keeps its device id', async () => {
    const rig = await startRig({ nodes: 2 });
    await waitFor('two devices', () => rig.controller.devices().length === 2);
    const node = rig.sim.nodes[0];
    assert.ok(node);
    const deviceId = node.deviceId;
    await node.moveTo('127.0.0.9');
    const moved = await waitFor('moved event', () => rig.events.find((e) => e.type === 'moved'));
    assert.equal(moved.type === 'moved' ? moved.from : '', '127.0.0.2');
    assert.equal(moved.device.deviceId, deviceId);
    assert.equal(moved.device.address, '127.0.0.9');
    assert.equal(rig.controller.devices().length, 2);
    const since = Date.now();
    await waitFor('polls from the new address', () => rig.observations.find((o) => o.deviceId === deviceId && o.address === '127.0.0.9' && Date.parse(o.ts) >= since));
  });

  test('units that truncate or refuse big Gets still deliver every property', async () => {
    const rig = await startRig(
      { nodes: 2, nodeQuirks: { 0: { maxGetBatch: { size: 4, behaviour: 'truncate' } }, 1: { maxGetBatch: { size: 3, behaviour: 'sna' } } } },
      { maxBatchSize: 10 },
    );
    for (const node of rig.sim.nodes) {
      const complete = await waitFor(`a complete poll of ${node.address}`, () =>
        rig.observations.find((o) => o.deviceId === node.deviceId && o.kind === 'poll' && Object.keys(o.properties).length === 10),
      );
      const reported = node.reported();
      for (const [name, value] of Object.entries(complete.properties)) assert.deepEqual(value, reported[name], name);
    }
  });

  test('units that take one EPC per Get are still described in full (id, instances, maps) and polled', async () => {
    const rig = await startRig({
      nodes: 2,
      nodeQuirks: { 0: { maxGetBatch: { size: 1, behaviour: 'sna' } }, 1: { maxGetBatch: { size: 1, behaviour: 'truncate' } } },
    });
    for (const node of rig.sim.nodes) {
      const device = await waitFor(`${node.address} described`, () => rig.controller.registry.get(node.deviceId));
      assert.equal(device.node.kind, 'id', 'known by its 0x83');
      assert.equal(device.manufacturer, 'ffffff');
      assert.ok(device.maps.get?.includes(0xbb) && device.maps.set?.includes(0xb3) && device.maps.announce?.includes(0x80), JSON.stringify(device.maps));
      const complete = await waitFor(`a complete poll of ${node.address}`, () =>
        rig.observations.find((o) => o.deviceId === node.deviceId && o.kind === 'poll' && Object.keys(o.properties).length === 10),
      );
      assert.deepEqual(complete.properties.roomTemperature, node.reported().roomTemperature);
    }
  });

  test('vendor EPCs the Get map lists are polled and kept raw, never named', async () => {
    const rig = await startRig({ nodes: 1, quirks: { vendorEpcs: true } });
    const node = rig.sim.nodes[0];
    assert.ok(node);
    const getMap = await waitFor('device with maps', () => rig.controller.registry.get(node.deviceId)?.maps.get ?? undefined);
    assert.ok([0xf0, 0xf1, 0xf2, 0xf3].every((epc) => getMap.includes(epc)));
    const poll = await waitFor('a poll', () => rig.observations.find((o) => o.deviceId === node.deviceId && o.kind === 'poll'));
    const served = node.served().findLast((s) => s.kind === 'poll' && s.raw.f0 !== undefined);
    assert.deepEqual(
      Object.fromEntries(Object.entries(poll.raw).filter(([epc]) => epc.startsWith('f'))),
      { f0: served?.raw.f0, f1: served?.raw.f1, f2: served?.raw.f2, f3: served?.raw.f3 },
      'the raw bytes the unit sent',
    );
    assert.equal(Object.keys(poll.properties).length, 10, 'the ten named properties, and no name for a vendor EPC');
    assert.equal(rig.controller.registry.get(node.deviceId)?.latest?.raw.f3, 'deadbeef');
  });

  test('a node without 0x83 gets an address-based device id', async () => {
    const rig = await startRig({ nodes: 1, quirks: { noIdentificationNumber: true } });
    await waitFor('one device', () => rig.controller.devices().length === 1);
    assert.equal(rig.controller.devices()[0]?.deviceId, '127.0.0.2-013001');
    assert.equal(rig.sim.nodes[0]?.deviceId, '127.0.0.2-013001');
  });

  test('slow and lossy units are retried, not given up on', async () => {
    const rig = await startRig({ nodes: 2, nodeQuirks: { 0: { replyDelayMs: 60 }, 1: { dropRequestRate: 0.3 } } }, { requestTimeoutMs: 150, maxRetries: 3 });
    await waitFor('two devices', () => rig.controller.devices().length === 2, 10_000);
    for (const node of rig.sim.nodes) await waitFor(`polls of ${node.address}`, () => polls(rig, node.deviceId) >= 3, 10_000);
  });

  test('stop() leaves nothing pending and can be called twice', async () => {
    const rig = await startRig({ nodes: 1, quirks: { silent: true } }, { requestTimeoutMs: 5_000 });
    await sleep(100);
    const started = Date.now();
    await rig.controller.stop();
    await rig.controller.stop();
    assert.ok(Date.now() - started < 1_000, 'stop does not wait for request timeouts');
  });
});

const transitions = (rig: Rig, deviceId: string): string[] =>
  rig.events.flatMap((e) => (e.type === 'availability' && e.device.deviceId === deviceId ? [`${e.from}>${e.device.availability}`] : []));

describe('availability: online, unreachable, offline', () => {
  test('a unit that stops answering but keeps announcing is unreachable, offline once quiet, online when it answers', async () => {
    const rig = await startRig({ nodes: 2 }, { offlineAfterPollIntervals: 4 });
    await waitFor('two devices', () => rig.controller.devices().length === 2);
    const [mute] = rig.sim.nodes;
    assert.ok(mute);
    mute.setSilent(true);
    // It keeps announcing changes (the field's unit whose unicast side hangs).
    let target = 20;
    const announcing = setInterval(() => void mute.update({ targetTemperature: (target = target === 20 ? 21 : 20) }), 150);
    try {
      await waitFor('unreachable', () => availabilityEvent(rig, mute.deviceId, 'unreachable'));
      assert.equal(rig.controller.registry.get(mute.deviceId)?.availability, 'unreachable');
      assert.ok(rig.observations.some((o) => o.deviceId === mute.deviceId && o.kind === 'inf'), 'its announcements are still readings');
    } finally {
      clearInterval(announcing);
    }
    // Quiet now: once its last INF is older than 4 poll intervals, it is offline; polls go on meanwhile.
    await waitFor('offline', () => availabilityEvent(rig, mute.deviceId, 'offline'), 5_000);
    const timeouts = rig.controller.counters().transport.requestTimeouts;
    await waitFor('polls keep going while offline', () => rig.controller.counters().transport.requestTimeouts > timeouts + 2);
    mute.setSilent(false);
    await waitFor('online', () => rig.controller.registry.get(mute.deviceId)?.availability === 'online');
    const path = transitions(rig, mute.deviceId);
    assert.equal(path.at(-1), 'offline>online');
    assert.ok(path.includes('unreachable>offline'), path.join(' '));
    assert.deepEqual(transitions(rig, rig.sim.nodes[1]?.deviceId ?? ''), [], 'the neighbour stayed online throughout');
  });

  test('a registry that remembers a device as offline learns it is online once the device answers', async () => {
    const registry = new InMemoryDeviceRegistry();
    const rig = await startRig({ nodes: 1 }, { registry, searchWindowMs: 50 });
    const [node] = rig.sim.nodes;
    assert.ok(node);
    await waitFor('the device', () => registry.get(node.deviceId));
    await rig.controller.stop();
    registry.setAvailability(node.deviceId, 'offline', new Date());

    const again = await startRig({ nodes: 1 }, { registry });
    await waitFor('online', () => availabilityEvent(again, node.deviceId, 'online'));
    assert.equal(registry.get(node.deviceId)?.availability, 'online');
    assert.equal(registry.list().length, 1);
  });

  test('deafBetween: deaf to unicast for a while, still answering searches and announcing', async () => {
    const rig = await startRig(
      { nodes: 1, quirks: { deafBetween: { fromMs: 800, toMs: 3_000 }, remoteControlEveryMs: 150 } },
      { offlineAfterPollIntervals: 10 },
    );
    const [node] = rig.sim.nodes;
    assert.ok(node);
    await waitFor('unreachable', () => availabilityEvent(rig, node.deviceId, 'unreachable'), 5_000);
    assert.ok(Date.now() - rig.sim.startedAt.getTime() < 3_000, 'still inside the deaf spell');
    assert.equal(await rig.controller.searchNow(), 1, 'multicast searches are still answered');
    await waitFor('online again', () => rig.controller.registry.get(node.deviceId)?.availability === 'online', 5_000);
    assert.deepEqual(transitions(rig, node.deviceId), ['online>unreachable', 'unreachable>online']);
  });

  test('silentBetween: nothing at all for a while (no answers, no INF), then back', async () => {
    const rig = await startRig({ nodes: 1, quirks: { silentBetween: { fromMs: 800, toMs: 2_500 }, remoteControlEveryMs: 100 } }, { offlineAfterPollIntervals: 2 });
    const [node] = rig.sim.nodes;
    assert.ok(node);
    await waitFor('offline', () => availabilityEvent(rig, node.deviceId, 'offline'), 5_000);
    await waitFor('online again', () => availabilityEvent(rig, node.deviceId, 'online'), 5_000);
    const start = rig.sim.startedAt.getTime();
    const infTimes = () => node.served().filter((s) => s.kind === 'inf').map((s) => s.at.getTime() - start);
    // Back online comes from a poll answer; the next remote-control INF may follow a moment later.
    await waitFor('an INF after the spell', () => infTimes().some((t) => t >= 2_500), 3_000);
    const infs = infTimes();
    assert.ok(infs.some((t) => t < 800), 'announces before the spell');
    assert.deepEqual(infs.filter((t) => t >= 850 && t < 2_450), [], 'and not in between');
  });
});

describe('simulator quirks against the controller', () => {
  test('moveAfterMs: the unit moves to its spare address and keeps its device id', async () => {
    const rig = await startRig({ nodes: 2, nodeQuirks: { 0: { moveAfterMs: 500 } } });
    const [node] = rig.sim.nodes;
    assert.ok(node);
    const moved = await waitFor('moved event', () => rig.events.find((e) => e.type === 'moved'));
    assert.equal(moved.device.deviceId, node.deviceId);
    assert.equal(moved.device.address, '127.0.0.4', 'base + number of nodes');
    assert.equal(node.address, '127.0.0.4');
    assert.equal(rig.controller.devices().length, 2);
  });

  test('every INF a unit sends arrives as a reading with the same raw bytes', async () => {
    const rig = await startRig({ nodes: 2, quirks: { remoteControlEveryMs: 120 } });
    await waitFor('two devices', () => rig.controller.devices().length === 2);
    await sleep(1_500);
    const sent = rig.sim.nodes.flatMap((n) => n.served().filter((s) => s.kind === 'inf').map((s) => `${n.deviceId} ${JSON.stringify(s.raw)}`));
    await waitFor('all INFs as readings', () => {
      const received = rig.observations.filter((o) => o.kind === 'inf').map((o) => `${o.deviceId} ${JSON.stringify(o.raw)}`);
      return sent.every((inf) => received.includes(inf));
    });
    assert.ok(sent.length >= 10, `${sent.length} INFs`);
  });

  test('extended property maps: all three read from 16+ entry bitmaps, and a poll is still one Get', async () => {
    const rig = await startRig({ nodes: 1, quirks: { extendedPropertyMaps: true } });
    const [node] = rig.sim.nodes;
    assert.ok(node);
    const maps = await waitFor('maps', () => rig.controller.registry.get(node.deviceId)?.maps);
    assert.ok((maps.announce?.length ?? 0) >= 16 && (maps.set?.length ?? 0) >= 16 && (maps.get?.length ?? 0) >= 27, JSON.stringify(maps));
    assert.ok(maps.set?.includes(0xb5) && maps.announce?.includes(0xc0));
    await waitFor('three polls', () => polls(rig, node.deviceId) >= 3);
    const pollAnswers = node.served().filter((s) => s.kind === 'poll' && s.raw['80'] !== undefined);
    assert.ok(pollAnswers.every((s) => Object.keys(s.raw).length === 10), 'ten EPCs per Get');
  });

  test('the all-quirks mix: a short soak finds every device and follows each misbehaviour', async () => {
    const runMs = 8_000;
    const rig = await startRig(
      { nodes: 9, nodeQuirks: allQuirksMix(9, runMs) },
      { requestTimeoutMs: 500, maxRetries: 0, pollIntervalMs: 200, offlineAfterPollIntervals: 4, searchIntervalMs: 1_000 },
    );
    const node = (index: number): SimulatedNodeHandle => rig.sim.nodes[index] as SimulatedNodeHandle;
    await waitFor('every device of every node', () => rig.sim.devices().every((d) => rig.controller.registry.get(d.deviceId) !== undefined), 5_000);
    assert.equal(rig.sim.devices().length, 10, 'nine air conditioners and one temperature sensor');
    assert.equal(node(8).deviceId, '127.0.0.10-013001', 'the node without 0x83');
    await waitFor('the silent node offline', () => availabilityEvent(rig, node(5).deviceId, 'offline'), runMs);
    await waitFor('the deaf node unreachable', () => availabilityEvent(rig, node(6).deviceId, 'unreachable'), runMs);
    const moved = await waitFor('the move', () => rig.events.find((e) => e.type === 'moved'), runMs);
    assert.equal(moved.device.deviceId, node(7).deviceId);
    await waitFor('all back online', () => [5, 6].every((i) => rig.controller.registry.get(node(i).deviceId)?.availability === 'online'), runMs);
    for (const index of [0, 3, 4]) {
      assert.equal(rig.controller.registry.get(node(index).deviceId)?.latest?.properties.roomTemperature, node(index).reported().roomTemperature, `node ${index} read in full`);
    }
  });
});

/** Sends `frame` to the controller from `address` (any 127.x.y.z is ours on loopback), as a spoofer would. */
async function sendFrom(address: string, port: number, frame: Frame): Promise<void> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: 0 }, () => resolve());
    });
    await new Promise<void>((resolve, reject) => socket.send(encodeFrame(frame), port, INTERFACE, (error) => (error ? reject(error) : resolve())));
  } finally {
    socket.close();
  }
  // The send completes without a turn of the event loop: give the controller one to read the
  // datagram, or a long run of these fills its receive queue and the kernel drops the rest.
  await new Promise((resolve) => setImmediate(resolve));
}

/** An INF from an object nobody described, with `bytes` of property data. */
const strangerInf = (bytes: number): Frame => ({
  tid: 1,
  seoj: makeEoj(0x01, 0x30, 0x01),
  deoj: NODE_PROFILE_EOJ,
  esv: ESV.Inf,
  properties: Array.from({ length: Math.ceil(bytes / 250) }, (_, i) => ({ epc: 0xf0 + (i % 16), edt: new Uint8Array(Math.min(248, bytes - 250 * i)) })),
});

describe('hostile input', () => {
  test('INFs from a source that is never described are kept within a byte budget, not a datagram each', async () => {
    // Nobody answers at the source, and the description waits for its timeout meanwhile.
    const rig = await onFreePort((port) => openController(port, { requestTimeoutMs: 10_000 }));
    for (let i = 0; i < 3; i++) await sendFrom('127.0.3.7', rig.port, strangerInf(2_000));
    await waitFor('the oldest dropped for room', () => rig.controller.counters().unattributedInfs === 1, 3_000);
    await sendFrom('127.0.3.7', rig.port, strangerInf(20));
    await sleep(100);
    assert.equal(rig.controller.counters().unattributedInfs, 1, 'small ones still fit');
  });

  test('spoofed sources filling the address table cannot lock a real unit out', async () => {
    const rig = await onFreePort((port) => openController(port, { requestTimeoutMs: 50, maxRetries: 0, searchIntervalMs: 60_000 }));
    const spoofed = Array.from({ length: 1_100 }, (_, i) => `127.0.${4 + Math.floor(i / 250)}.${1 + (i % 250)}`);
    for (const address of spoofed) await sendFrom(address, rig.port, strangerInf(4));
    // Their descriptions time out within a second; until then they are not forgotten.
    await sleep(1_500);
    const sim = await openSimulator(rig.port, { nodes: 1, baseAddress: '127.0.9.2' });
    const [node] = sim.nodes;
    assert.ok(node);
    await waitFor('the real unit, announced after the flood', () => rig.controller.registry.get(node.deviceId), 5_000);
    await waitFor('and polled', () => polls(rig, node.deviceId) > 0);
    const { unattributedInfs } = rig.controller.counters();
    assert.ok(unattributedInfs > spoofed.length - 1_024, `${unattributedInfs}: INFs of sources ignored or forgotten count as unattributed`);
  });
});
