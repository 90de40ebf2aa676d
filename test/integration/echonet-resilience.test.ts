/**
 * The field's misbehaviours, reproduced with the simulator's quirks on loopback: mute units, address
 * moves, units that truncate or refuse big Gets, vendor EPCs, nodes without an identification number.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { type DeviceEvent, type EchonetControllerOptions, EchonetController } from '../../edge/echonet/controller.js';
import { type SimulatorHandle, type SimulatorOptions, startSimulator } from '../../edge/simulator/simulator.js';
import { silentLogger } from '../../shared/log.js';
import type { Observation } from '../../shared/reading.js';

const INTERFACE = '127.0.0.1';
const logger = silentLogger();

interface Rig {
  readonly port: number;
  readonly sim: SimulatorHandle;
  readonly controller: EchonetController;
  readonly observations: Observation[];
  readonly events: DeviceEvent[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function startRig(simOptions: Partial<SimulatorOptions> = {}, controllerOptions: Partial<EchonetControllerOptions> = {}): Promise<Rig> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    let sim: SimulatorHandle | undefined;
    try {
      sim = await startSimulator({ interfaceAddress: INTERFACE, nodes: 3, baseAddress: '127.0.0.2', port, tickMs: 0, logger, ...simOptions });
      const controller = new EchonetController({
        interfaceAddress: INTERFACE,
        port,
        searchIntervalMs: 5_000,
        searchWindowMs: 200,
        pollIntervalMs: 200,
        requestTimeoutMs: 150,
        maxRetries: 1,
        retryBaseDelayMs: 30,
        unavailableAfterFailures: 2,
        logger,
        ...controllerOptions,
      });
      const observations: Observation[] = [];
      const events: DeviceEvent[] = [];
      controller.on('observation', (o) => observations.push(o));
      controller.on('device', (e) => events.push(e));
      const started = sim;
      cleanups.push(async () => {
        await controller.stop();
        await started.stop();
      });
      await controller.start();
      return { port, sim, controller, observations, events };
    } catch (error) {
      await sim?.stop();
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error;
    }
  }
}

const polls = (rig: Rig, deviceId: string, since = 0): number =>
  rig.observations.filter((o) => o.deviceId === deviceId && o.kind === 'poll' && Date.parse(o.ts) >= since).length;

describe('controller resilience on loopback', () => {
  test('a unit that stops answering becomes unavailable without holding up the others, and comes back', async () => {
    const rig = await startRig();
    await waitFor('three devices', () => rig.controller.devices().length === 3);
    const [mute, ...others] = rig.sim.nodes;
    assert.ok(mute);
    mute.setSilent(true);
    const since = Date.now();
    await waitFor('unavailable event', () => rig.events.find((e) => e.type === 'unavailable' && e.device.deviceId === mute.deviceId));
    await sleep(1_000);
    for (const node of others) {
      // 200 ms poll interval: a mute neighbour must not cost the others their cadence.
      assert.ok(polls(rig, node.deviceId, since) >= 4, `${node.address} polled ${polls(rig, node.deviceId, since)} times`);
    }
    assert.equal(rig.controller.registry.get(mute.deviceId)?.available, false);
    assert.ok(rig.controller.counters().transport.requestTimeouts > 0);
    mute.setSilent(false);
    await waitFor('available event', () => rig.events.find((e) => e.type === 'available' && e.device.deviceId === mute.deviceId));
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

  test('vendor EPCs show up in the Get map but are never named', async () => {
    const rig = await startRig({ nodes: 1, quirks: { vendorEpcs: true } });
    const node = rig.sim.nodes[0];
    assert.ok(node);
    const device = await waitFor('device with maps', () => rig.controller.registry.get(node.deviceId)?.maps.get ?? undefined);
    assert.ok([0xf0, 0xf1, 0xf2, 0xf3].every((epc) => device.includes(epc)));
    const poll = await waitFor('a poll', () => rig.observations.find((o) => o.deviceId === node.deviceId));
    assert.ok(Object.keys(poll.raw).every((epc) => !epc.startsWith('f')));
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
