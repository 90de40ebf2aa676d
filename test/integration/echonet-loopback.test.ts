/**
 * Controller and simulator over real UDP on loopback: three simulated air conditioners on
 * 127.0.0.2–4, the controller on 127.0.0.1, multicast pinned to 127.0.0.1. Each test uses its own
 * random port, so test files can run in parallel processes.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { afterEach, describe, test } from 'node:test';
import { type EchonetControllerOptions, EchonetController } from '../../edge/echonet/controller.js';
import { makeEoj } from '../../edge/echonet/eoj.js';
import { ESV } from '../../edge/echonet/esv.js';
import { decodeFrame, encodeFrame } from '../../edge/echonet/frame.js';
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
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 20_000);
}

async function startRig(simOptions: Partial<SimulatorOptions> = {}, controllerOptions: Partial<EchonetControllerOptions> = {}): Promise<Rig> {
  for (let attempt = 0; ; attempt++) {
    const port = randomPort();
    let sim: SimulatorHandle | undefined;
    try {
      sim = await startSimulator({ interfaceAddress: INTERFACE, nodes: 3, baseAddress: '127.0.0.2', port, tickMs: 0, logger, ...simOptions });
      const controller = new EchonetController({
        interfaceAddress: INTERFACE,
        port,
        searchIntervalMs: 2_000,
        searchWindowMs: 200,
        pollIntervalMs: 200,
        requestTimeoutMs: 250,
        maxRetries: 1,
        retryBaseDelayMs: 50,
        logger,
        ...controllerOptions,
      });
      const observations: Observation[] = [];
      controller.on('observation', (o) => observations.push(o));
      const started = sim;
      cleanups.push(async () => {
        await controller.stop();
        await started.stop();
      });
      await controller.start();
      return { port, sim, controller, observations };
    } catch (error) {
      await sim?.stop();
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error;
    }
  }
}

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
      assert.equal(device?.available, true);
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
    cleanups.push(() => new Promise((resolve) => peer.close(() => resolve())));
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
