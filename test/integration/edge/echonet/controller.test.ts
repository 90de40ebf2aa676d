/**
 * The controller against the faults seen with independently written nodes, reproduced by the
 * simulator's quirks on loopback. The simulator's journal — what each unit really sent — is the
 * truth every stored reading is checked against.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { EchonetController } from '../../../../edge/echonet/controller.js';
import type { SimulatedNodeHandle } from '../../../../edge/simulator/simulator.js';
import type { Observation } from '../../../../shared/reading.js';
import { type ControllerRig, type Rig, INTERFACE, logger, onFreePort, openController, openSimulator, startRig, stopAfterTest, stopOpened } from '../../../support/echonet-rig.js';
import { sleep, waitFor } from '../../../support/wait.js';

afterEach(stopOpened);

const POLL_MS = 200;

/** Every raw value of every poll reading of `node`'s air conditioner is one the unit itself served shortly before. */
function assertServedByItself(rig: ControllerRig, node: SimulatedNodeHandle, deviceId: string): number {
  const served = node.served().filter((s) => s.kind === 'poll');
  const readings = rig.observations.filter((o) => o.deviceId === deviceId && o.kind === 'poll');
  for (const reading of readings) {
    const at = Date.parse(reading.ts);
    for (const [epc, hex] of Object.entries(reading.raw)) {
      const match = served.some((s) => s.raw[epc] === hex && s.at.getTime() <= at + 5 && s.at.getTime() >= at - 5_000);
      assert.ok(match, `reading of ${deviceId} at ${reading.ts} from ${reading.address} has ${epc}=${hex}, which its unit never served then`);
    }
  }
  return readings.length;
}

/** Distinct set temperatures, so a value from one unit can never pass for another's. */
async function distinguish(nodes: readonly SimulatedNodeHandle[]): Promise<void> {
  for (const [i, node] of nodes.entries()) await node.update({ targetTemperature: 16 + 5 * i });
}

const pollsSince = (rig: ControllerRig, deviceId: string, since: number, address?: string): Observation[] =>
  rig.observations.filter((o) => o.deviceId === deviceId && o.kind === 'poll' && Date.parse(o.ts) >= since && (address === undefined || o.address === address));

describe('controller against field faults', () => {
  test('a unit that drops Gets over 3 EPCs without a word is described and read within two poll cycles', async () => {
    const rig = await startRig({ nodes: 2, nodeQuirks: { 0: { ignoreGetsOver: 3 } } }, { pollIntervalMs: POLL_MS, requestTimeoutMs: 150, retryBaseDelayMs: 20 });
    const [quiet, normal] = rig.sim.nodes;
    assert.ok(quiet && normal);
    const device = await waitFor('the quiet unit described', () => rig.controller.registry.get(quiet.deviceId), 8_000);
    const complete = await waitFor(
      'a complete reading of the quiet unit',
      () => rig.observations.find((o) => o.deviceId === quiet.deviceId && o.kind === 'poll' && Object.keys(o.properties).length === 10),
      8_000,
    );
    const reported = quiet.reported();
    for (const [name, value] of Object.entries(complete.properties)) assert.deepEqual(value, reported[name], name);
    const map = await waitFor('its property maps, read despite the silence', () => rig.controller.registry.get(quiet.deviceId)?.maps.get ?? undefined);
    assert.ok(map.includes(0xbb));
    const firstPollAt = Date.parse(rig.observations.find((o) => o.deviceId === quiet.deviceId && o.kind === 'poll')?.ts ?? '');
    assert.ok(firstPollAt - Date.parse(device.firstSeenAt) < 2 * POLL_MS + 4 * 3 * 150, 'read within two cycles (plus the silences it costs)');
    await waitFor('online', () => rig.controller.registry.get(quiet.deviceId)?.availability === 'online');
    const view = rig.controller.pollViews().find((v) => v.deviceId === quiet.deviceId);
    assert.equal(view?.batchSize, 3, 'the size that works is remembered');
    assert.equal(rig.controller.pollViews().find((v) => v.deviceId === normal.deviceId)?.batchSize, 10);
    const since = Date.now();
    await sleep(4 * POLL_MS);
    assert.ok(pollsSince(rig, quiet.deviceId, since).every((o) => Object.keys(o.properties).length === 10), 'every later cycle complete');
    assertServedByItself(rig, quiet, quiet.deviceId);
  });

  test('two units swap addresses while polled: no reading carries the other unit’s values, and each keeps its own batch size', async () => {
    const rig = await startRig({ nodes: 2, nodeQuirks: { 0: { vendorEpcs: true } } }, { pollIntervalMs: POLL_MS, maxRetries: 4 });
    const [a, b] = rig.sim.nodes;
    assert.ok(a && b);
    await distinguish([a, b]);
    const [idA, idB, addressA, addressB] = [a.deviceId, b.deviceId, a.address, b.address];
    await waitFor('both polled', () => pollsSince(rig, idA, 0).length > 2 && pollsSince(rig, idB, 0).length > 2);
    // A's next Get goes unanswered, so its retries are still planned for A's old address when B takes it.
    a.setSilent(true);
    await sleep(POLL_MS + 100);
    const swappedAt = Date.now();
    await rig.sim.swapAddresses(0, 1);
    a.setSilent(false);
    await waitFor('each polled at its new address', () => pollsSince(rig, idA, swappedAt, addressB).length > 2 && pollsSince(rig, idB, swappedAt, addressA).length > 2, 8_000);
    assert.ok(assertServedByItself(rig, a, idA) > 4);
    assert.ok(assertServedByItself(rig, b, idB) > 4);
    assert.equal(rig.controller.devices().length, 2, 'no device forked by the swap');
    const views = new Map(rig.controller.pollViews().map((v) => [v.deviceId, v]));
    assert.equal(views.get(idA)?.batchSize, 10);
    assert.deepEqual(views.get(idA)?.unsupportedEpcs, [], 'its vendor EPCs are its own, never refused by the other unit on its behalf');
    assert.equal(views.get(idB)?.batchSize, 10);
    await sleep(3 * POLL_MS);
    const since = Date.now();
    await sleep(3 * POLL_MS);
    assert.ok(pollsSince(rig, idA, since).every((o) => Object.keys(o.raw).length === 14), 'A: its ten values and four vendor EPCs');
  });

  test('a unit without 0x83 taking a moved unit’s old address: the moved unit never gets its values', async () => {
    const rig = await startRig({ nodes: 2, nodeQuirks: { 1: { noIdentificationNumber: true } } }, { pollIntervalMs: POLL_MS, maxRetries: 4 });
    const [moving, intruder] = rig.sim.nodes;
    assert.ok(moving && intruder);
    await distinguish([moving, intruder]);
    const [movingId, oldAddress] = [moving.deviceId, moving.address];
    await waitFor('both polled', () => pollsSince(rig, movingId, 0).length > 2 && pollsSince(rig, intruder.deviceId, 0).length > 2);
    // The moving unit's next Get goes unanswered, so its retries are still planned for the old address when the intruder takes it.
    moving.setSilent(true);
    await sleep(POLL_MS + 100);
    const movedAt = Date.now();
    await intruder.moveTo('127.0.0.8');
    await moving.moveTo('127.0.0.9');
    await intruder.moveTo(oldAddress);
    moving.setSilent(false);
    await waitFor('the moved unit polled at its new address', () => pollsSince(rig, movingId, movedAt, '127.0.0.9').length > 2, 8_000);
    await waitFor('the intruder known at the old address', () => pollsSince(rig, `${oldAddress}-013001`, movedAt).length > 2, 8_000);
    assert.ok(assertServedByItself(rig, moving, movingId) > 4);
    assert.equal(rig.controller.registry.get(movingId)?.address, '127.0.0.9');
  });

  test('a unit without 0x83 taking a silent unit’s address without announcing itself (boot INF lost): none of its values under the unit’s id', async () => {
    const rig = await startRig({ nodes: 2, nodeQuirks: { 1: { noIdentificationNumber: true } } }, { pollIntervalMs: POLL_MS, maxRetries: 1 });
    const [leaving, intruder] = rig.sim.nodes;
    assert.ok(leaving && intruder);
    await distinguish([leaving, intruder]);
    const [leavingId, oldAddress] = [leaving.deviceId, leaving.address];
    await waitFor('both polled', () => pollsSince(rig, leavingId, 0).length > 2 && pollsSince(rig, intruder.deviceId, 0).length > 2);
    // The unit leaves the network (its polls go unanswered) before its address is handed to the next one.
    leaving.setSilent(true);
    await waitFor('the leaving unit missed a poll', () => (rig.controller.pollViews().find((v) => v.deviceId === leavingId)?.stats.timeouts ?? 0) > 0);
    const movedAt = Date.now();
    await leaving.moveTo('127.0.0.9', { announce: false });
    await intruder.moveTo(oldAddress, { announce: false });
    leaving.setSilent(false);
    await waitFor('the intruder known by its new address', () => pollsSince(rig, `${oldAddress}-013001`, movedAt).length > 2, 8_000);
    await waitFor('the left unit polled at its new address', () => pollsSince(rig, leavingId, movedAt, '127.0.0.9').length > 2, 8_000);
    assert.equal(pollsSince(rig, leavingId, movedAt, oldAddress).length, 0, 'no reading under the left unit’s id from its old address');
    assert.ok(assertServedByItself(rig, leaving, leavingId) > 4);
    assert.equal(rig.controller.registry.get(leavingId)?.address, '127.0.0.9');
  });

  test('a unit without 0x83 taking an address at once, unannounced: the next search ends the other unit’s readings from there', async () => {
    const rig = await startRig({ nodes: 2, nodeQuirks: { 1: { noIdentificationNumber: true } } }, { pollIntervalMs: POLL_MS, maxRetries: 1, searchIntervalMs: 60_000, firstSearchRetryMs: 60_000 });
    const [leaving, intruder] = rig.sim.nodes;
    assert.ok(leaving && intruder);
    await distinguish([leaving, intruder]);
    const [leavingId, oldAddress] = [leaving.deviceId, leaving.address];
    await waitFor('both polled', () => pollsSince(rig, leavingId, 0).length > 2 && pollsSince(rig, intruder.deviceId, 0).length > 2);
    // No poll goes unanswered between the two moves: nothing but a search can tell another node answers.
    await leaving.moveTo('127.0.0.9', { announce: false });
    await intruder.moveTo(oldAddress, { announce: false });
    await rig.controller.searchNow();
    const searchedAt = Date.now();
    await waitFor('the intruder known by its new address', () => pollsSince(rig, `${oldAddress}-013001`, searchedAt).length > 2, 8_000);
    await sleep(4 * POLL_MS);
    assert.equal(pollsSince(rig, leavingId, searchedAt, oldAddress).length, 0, 'no reading under the left unit’s id from its old address after the search');
  });

  test('a unit with 0x83 that leaves it out of search answers costs one Get of 0x83 per search, and is never described again', async () => {
    const rig = await startRig({ nodes: 1, quirks: { idOutOfSearchAnswers: true } }, { pollIntervalMs: POLL_MS, searchIntervalMs: 60_000, firstSearchRetryMs: 60_000 });
    const [unit] = rig.sim.nodes;
    assert.ok(unit);
    await waitFor('polled', () => pollsSince(rig, unit.deviceId, 0).length > 2);
    await sleep(500);
    const before = unit.getsReceived().length;
    for (let i = 0; i < 3; i++) {
      await rig.controller.searchNow();
      await sleep(300);
    }
    const asked = unit.getsReceived().slice(before).filter((r) => r.eoj === '0ef001' && !r.multicast);
    assert.equal(asked.length, 3, `one unicast node-profile Get per search: ${JSON.stringify(asked)}`);
    assert.ok(asked.every((r) => r.epcs.join() === '83'), 'only 0x83 asked, no description');
    assert.equal(rig.controller.devices().length, 1, 'no address-keyed twin');
    const since = Date.now();
    await sleep(3 * POLL_MS);
    assert.ok(pollsSince(rig, unit.deviceId, since).length >= 2, 'still polled');
  });

  test('a Get or Set answered only after the node at the address was put in doubt is no answer of the device (NO_ANSWER, counted)', async () => {
    // The unit answers late, so its answer comes after a node announcing the unit's id elsewhere has put its address in doubt.
    const rig = await startRig({ nodes: 1, quirks: { replyDelayMs: 600 } }, { pollIntervalMs: 60_000, requestTimeoutMs: 2_000, maxRetries: 0, searchWindowMs: 1_000 });
    const [unit] = rig.sim.nodes;
    assert.ok(unit?.nodeId);
    await waitFor('polled once (the next poll is a minute away)', () => pollsSince(rig, unit.deviceId, 0).length > 0, 8_000);
    const twinAnnounces = async (): Promise<void> => {
      await sleep(100);
      const twin = new EchonetController({ interfaceAddress: '127.0.0.7', port: rig.port, logger, identificationNumber: unit.nodeId ?? '', announceAtStart: true, searchIntervalMs: 60_000, firstSearchRetryMs: 60_000 });
      await twin.start();
      await sleep(300);
      await twin.stop();
    };
    const before = rig.controller.counters().foreignAnswersDropped;
    const [read] = await Promise.all([rig.controller.readProperties(unit.deviceId, ['targetTemperature']), twinAnnounces()]);
    assert.equal(read.ok, false, `read: ${JSON.stringify(read)}`);
    assert.equal(!read.ok && read.reason, 'NO_ANSWER');
    assert.equal(rig.controller.counters().foreignAnswersDropped, before + 1);
    // The unit still answers with its id at its address: the twin is taken for a node sharing it, and the unit is bound again.
    for (let tries = 0; !(await rig.controller.readProperties(unit.deviceId, ['targetTemperature'])).ok; tries++) {
      assert.ok(tries < 20, 'the unit is bound again');
      await sleep(200);
    }
    const [set] = await Promise.all([rig.controller.setProperties(unit.deviceId, { targetTemperature: 25 }), twinAnnounces()]);
    assert.equal(!set.ok && set.reason, 'NO_ANSWER', `set: ${JSON.stringify(set)}`);
    assert.equal(rig.controller.counters().foreignAnswersDropped, before + 2, JSON.stringify(set));
  });

  test('a unit announcing itself anew (INF 0xD5) with a changed Get map has its maps read again and polled by them', async () => {
    const rig = await startRig({ nodes: 1 }, { pollIntervalMs: POLL_MS });
    const [unit] = rig.sim.nodes;
    assert.ok(unit);
    await waitFor('polled', () => pollsSince(rig, unit.deviceId, 0).length > 1);
    await unit.reboot({ vendorEpcs: true });
    const changed = await waitFor('a property map event', () => rig.events.find((e) => e.type === 'propertyMapChanged'));
    assert.equal(changed.device.deviceId, unit.deviceId);
    assert.ok(changed.device.maps.get?.includes(0xf3));
    const since = Date.now();
    await waitFor('vendor EPCs polled', () => pollsSince(rig, unit.deviceId, since).some((o) => o.raw.f3 === 'deadbeef'));
  });

  test('placeholder identification numbers (0xFE and zeros) identify nothing: two copies get address-based ids', async () => {
    const rig = await startRig({ nodes: 2, quirks: { placeholderIdentificationNumber: true } });
    await waitFor('two devices', () => rig.controller.devices().length === 2);
    assert.deepEqual(rig.controller.devices().map((d) => d.deviceId).sort(), ['127.0.0.2-013001', '127.0.0.3-013001']);
    assert.deepEqual(rig.sim.nodes.map((n) => n.deviceId), ['127.0.0.2-013001', '127.0.0.3-013001']);
  });

  test('a node hosting only a controller object is no device: not listed, not polled', async () => {
    const rig: Rig = await startRig({ nodes: 1 }, { staticAddresses: ['127.0.0.7'] });
    const other = new EchonetController({ interfaceAddress: '127.0.0.7', port: rig.port, logger, announceAtStart: true });
    stopAfterTest(() => other.stop());
    await other.start();
    await waitFor('the aircon found', () => rig.controller.devices().length === 1);
    await rig.controller.searchNow();
    await sleep(500);
    assert.deepEqual(rig.controller.devices().map((d) => d.eoj), ['013001'], 'the controller-only node is not a device');
    assert.ok(rig.controller.pollViews().every((v) => !v.deviceId.endsWith('-05ff01')));
  });
});

describe('controller after a restart', () => {
  test('known devices are listed at once (offline until they answer), and polled without being described again', async () => {
    await onFreePort(async (port) => {
      const sim = await openSimulator(port, { nodes: 2 });
      const first = await openController(port);
      await waitFor('two devices online', () => first.controller.devices().filter((d) => d.availability === 'online').length === 2);
      await waitFor('learned limits', () => first.controller.knownDevices().every((k) => k.learned !== undefined));
      const known = first.controller.knownDevices();
      await first.controller.stop();
      const late = sim.nodes[1];
      assert.ok(late);
      late.setSilent(true); // misses the first searches
      const second = new EchonetController({ interfaceAddress: INTERFACE, port, logger, pollIntervalMs: 200, requestTimeoutMs: 250, maxRetries: 1, knownDevices: known });
      const readings: Observation[] = [];
      second.on('observation', (o) => readings.push(o));
      stopAfterTest(() => second.stop());
      await second.start();
      assert.deepEqual(second.devices().map((d) => d.deviceId).sort(), known.map((k) => k.identity.deviceId).sort(), 'listed at once');
      assert.ok(second.devices().every((d) => d.availability === 'offline'), 'offline until they answer');
      await waitFor('the silent one still offline, the other online', () => second.registry.get(late.deviceId)?.availability === 'offline' && second.devices().some((d) => d.availability === 'online'));
      late.setSilent(false);
      await waitFor('the late one read as soon as it answers', () => readings.some((o) => o.deviceId === late.deviceId), 8_000);
      assert.equal(second.counters().searches >= 1, true);
    });
  });

  test('units that swapped addresses while the edge was down: listed at once, each read at its new address, never with the other’s values', async () => {
    await onFreePort(async (port) => {
      const sim = await openSimulator(port, { nodes: 2 });
      const [a, b] = sim.nodes;
      assert.ok(a && b);
      await distinguish([a, b]);
      const first = await openController(port);
      await waitFor('two devices online', () => first.controller.devices().filter((d) => d.availability === 'online').length === 2);
      await waitFor('learned limits', () => first.controller.knownDevices().every((k) => k.learned !== undefined));
      const known = first.controller.knownDevices();
      await first.controller.stop();
      const [addressA, addressB] = [a.address, b.address];
      await sim.swapAddresses(0, 1); // their boot announcements go out while nobody listens
      const second = new EchonetController({ interfaceAddress: INTERFACE, port, logger, pollIntervalMs: POLL_MS, requestTimeoutMs: 250, maxRetries: 1, knownDevices: known });
      const observations: Observation[] = [];
      second.on('observation', (o) => observations.push(o));
      stopAfterTest(() => second.stop());
      await second.start();
      assert.deepEqual(second.devices().map((d) => d.deviceId).sort(), [a.deviceId, b.deviceId].sort(), 'listed at once');
      const rig = { port, controller: second, observations, events: [] };
      await waitFor('each read at its new address', () => pollsSince(rig, a.deviceId, 0, addressB).length > 2 && pollsSince(rig, b.deviceId, 0, addressA).length > 2, 8_000);
      assert.equal(pollsSince(rig, a.deviceId, 0, addressA).length, 0, 'A never read at its old address, where B now answers');
      assert.equal(pollsSince(rig, b.deviceId, 0, addressB).length, 0, 'B never read at its old address, where A now answers');
      assert.ok(assertServedByItself(rig, a, a.deviceId) > 2);
      assert.ok(assertServedByItself(rig, b, b.deviceId) > 2);
      assert.equal(second.devices().length, 2, 'no device forked by the swap');
    });
  });
});
