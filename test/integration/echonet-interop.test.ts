/**
 * Interoperability with independent ECHONET Lite implementations.
 *
 * The `echonet-lite` npm package, each peer in its own network namespace on one bridge (see
 * test/support/netns.ts). The package binds 0.0.0.0:3610, so it never runs in the root namespace.
 *
 *   a. our controller finds and reads an air conditioner made with the package, sets it, and hears
 *      the INF the package sends for the change;
 *   b. the package's controller finds and reads our simulator, and its SetC is accepted and announced.
 *
 * `uecho` from PyPI (test/support/interop-uecho-device.py), on loopback with multicast pinned to
 * 127.0.0.1:
 *
 *   c. our controller finds an air conditioner made with uecho and reads its values.
 *
 * a and b need root (network namespaces); they fail, never skip, without it. c needs the harness's
 * interop Python (ECHOLAKE_TEST_INTEROP_PYTHON) and fails, naming it, without it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, afterEach, test } from 'node:test';
import type { DeviceEvent } from '../../edge/echonet/controller.js';
import type { Observation } from '../../shared/reading.js';
import { INTERFACE, onFreePort, openController, stopAfterTest, stopOpened } from '../support/echonet-rig.js';
import { requiredEnv } from '../support/env.js';
import { HostProcess, type OutputLine, NetnsTopology, assertNetnsPrerequisites } from '../support/netns.js';
import { waitFor } from '../support/wait.js';

const PORT = '3610';
const STARTUP_MS = 15_000;

const topologies: NetnsTopology[] = [];
after(async () => {
  const errors: unknown[] = [];
  for (const topology of topologies.splice(0)) await topology.destroy().catch((error: unknown) => errors.push(error));
  if (errors.length > 0) throw new AggregateError(errors, 'namespace cleanup failed');
});

async function createTopology(hosts: string[]): Promise<NetnsTopology> {
  assertNetnsPrerequisites();
  const topology = await NetnsTopology.create(hosts);
  topologies.push(topology);
  return topology;
}

async function destroyTopology(topology: NetnsTopology): Promise<void> {
  await topology.destroy();
  topologies.splice(topologies.indexOf(topology), 1);
}

const observationOf = (line: OutputLine): Observation | undefined => (line.type === 'observation' ? (line.observation as Observation) : undefined);

function controllerArgs(address: string): string[] {
  return ['--interface', address, '--port', PORT, '--search-interval-ms', '1000', '--poll-interval-ms', '1000'];
}

// ---------------------------------------------------------------------------------------------
// a. our controller ← an echonet-lite device

/** What the package's air conditioner holds, EDT hex by EPC, and what our codecs must make of it. */
const DEVICE_PROPERTIES: Readonly<Record<string, string>> = {
  '80': '30', // operation status: on
  '81': '08', // installation location: living room
  '82': '00005201', // protocol: Release R
  '84': '01f4', // 500 W
  '85': '0001e240', // 123456 × 0.001 kWh
  '88': '42', // fault status: no fault
  '8a': 'ffffff', // maker code (experimental); the package's node profile says 000077
  a0: '33', // air flow level 3
  b0: '42', // cooling
  b3: '17', // 23 °C
  ba: '37', // 55 %
  bb: '1d', // 29 °C
  be: 'fb', // −5 °C (signed)
};
const EXPECTED_VALUES = {
  operationStatus: true,
  instantaneousElectricPowerConsumption: 500,
  consumedCumulativeElectricEnergy: 123.456,
  faultStatus: false,
  airFlowLevel: 3,
  operationMode: 'cooling',
  targetTemperature: 23,
  humidity: 55,
  roomTemperature: 29,
  outdoorTemperature: -5,
};
/** 17 EPCs: the Get map needs the bitmap form (16 and more), written by our test runner from the spec. */
const GET_MAP = [0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x88, 0x8a, 0x9d, 0x9e, 0x9f, 0xa0, 0xb0, 0xb3, 0xba, 0xbb, 0xbe];
const SET_MAP = [0x80, 0x81, 0xa0, 0xb0, 0xb3];
const INF_MAP = [0x80, 0x81, 0x88, 0xa0, 0xb0];

test('our controller discovers, reads and sets an echonet-lite air conditioner and hears its INF', { timeout: 50_000 }, async () => {
  const net = await createTopology(['ctl', 'dev']);
  const nodeId = `feffffff${randomBytes(13).toString('hex')}`;
  const config = { nodeId, properties: DEVICE_PROPERTIES, maps: { '9d': INF_MAP, '9e': SET_MAP, '9f': GET_MAP } };
  const device = net.node('dev', 'test/support/interop-el-device.ts', ['--interface', net.address('dev'), '--config', JSON.stringify(config)], {
    label: 'echonet-lite device in dev',
  });
  const ready = await device.waitForLine((line) => line.type === 'ready', STARTUP_MS, 'the echonet-lite device to listen');
  assert.equal(ready.nodeId, nodeId);

  const controller = net.node('ctl', 'test/support/netns-controller.ts', controllerArgs(net.address('ctl')), { label: 'our controller in ctl' });
  const deviceId = `${nodeId}-013001`;

  // Discovery: multicast search across the bridge, then the node profile (0x83, 0xD6) and the maps.
  const discovered = await controller.waitForLine((line) => line.type === 'device' && line.event === 'discovered', STARTUP_MS, 'the echonet-lite device to be discovered');
  const record = discovered.device as { deviceId: string; eoj: string; address: string; manufacturer: string | null; maps: Record<string, number[] | null> };
  assert.equal(record.deviceId, deviceId, "the device id is the package node's 0x83 plus the EOJ");
  assert.equal(record.eoj, '013001');
  assert.equal(record.address, net.address('dev'));
  assert.equal(record.manufacturer, 'ffffff', "the object's own 0x8A");
  assert.deepEqual(record.maps, { announce: INF_MAP, set: SET_MAP, get: GET_MAP }, 'property maps, the 0x9F bitmap form included, decode to what was configured');

  // Reading: a poll returns exactly the configured bytes, decoded as the APPENDIX says.
  const poll = await controller.waitForLine((line) => observationOf(line)?.kind === 'poll', STARTUP_MS, 'a poll of the echonet-lite device');
  const polled = observationOf(poll) as Observation;
  assert.equal(polled.deviceId, deviceId);
  assert.equal(polled.address, net.address('dev'));
  for (const [name, value] of Object.entries(EXPECTED_VALUES)) assert.deepEqual(polled.properties[name], value, `${name} as configured`);
  assert.ok(Object.keys(polled.raw).length >= Object.keys(EXPECTED_VALUES).length);
  for (const [epc, edt] of Object.entries(polled.raw)) assert.equal(edt, DEVICE_PROPERTIES[epc], `raw ${epc} is the configured EDT`);
  const served = await device.waitForLine((line) => line.type === 'request' && line.esv === '62' && line.from === net.address('ctl'), 5_000, 'a Get from our controller');
  assert.equal(served.deoj, '013001');

  // Setting: SetC of two properties; the package accepts both (Set_Res) and announces the mode by INF.
  controller.send({ cmd: 'set', id: 'set-1', deviceId, values: { operationMode: 'heating', targetTemperature: 20 } });
  const setResult = await controller.waitForLine((line) => line.type === 'set-result' && line.id === 'set-1', 10_000, 'the set result');
  assert.deepEqual(setResult.outcome, { ok: true });
  const state = await device.waitForLine((line) => line.type === 'state', 5_000, 'the device state after the Set');
  assert.deepEqual({ b0: (state.properties as Record<string, string>).b0, b3: (state.properties as Record<string, string>).b3 }, { b0: '43', b3: '14' });
  const inf = await controller.waitForLine(
    (line) => observationOf(line)?.kind === 'inf' && observationOf(line)?.properties.operationMode === 'heating',
    10_000,
    "an INF observation of the package's mode change",
  );
  assert.equal(observationOf(inf)?.deviceId, deviceId);
  assert.equal(observationOf(inf)?.raw.b0, '43');
  await controller.waitForLine(
    (line) => {
      const o = observationOf(line);
      return o?.kind === 'poll' && o.properties.targetTemperature === 20 && o.properties.operationMode === 'heating';
    },
    10_000,
    'a poll showing the new settings',
  );

  assert.deepEqual(
    device.lines.filter((line) => line.type === 'library-error'),
    [],
    'the package parsed everything our controller sent',
  );
  assert.deepEqual(await controller.stop(), { code: 0, signal: null }, controller.tail());
  assert.deepEqual(await device.stop(), { code: 0, signal: null }, device.tail());
  await destroyTopology(net);
});

// ---------------------------------------------------------------------------------------------
// b. an echonet-lite controller → our simulator

const frameFrom = (address: string, seoj: string, esv: string) => (line: OutputLine) =>
  line.type === 'frame' && line.from === address && line.seoj === seoj && line.esv === esv;
const detailsOf = (line: OutputLine): Record<string, string> => line.details as Record<string, string>;

test("echonet-lite's controller discovers, reads and sets our simulator", { timeout: 50_000 }, async () => {
  const net = await createTopology(['sim', 'elc', 'ctl']);
  const simAddress = net.address('sim');
  const sim = net.node('sim', 'edge/simulator/main.ts', ['--nodes', '1', '--base-address', simAddress, '--interface', simAddress, '--port', PORT, '--tick-ms', '0'], {
    label: 'echolake-sim in sim',
  });
  const up = await sim.waitForLine((line) => line.msg === 'simulated air conditioner up', STARTUP_MS, 'the simulated node');
  const nodeId = String(up.nodeId);

  // The package's controller, and ours as the reference reader of the same frozen unit.
  const elc = net.node('elc', 'test/support/interop-el-controller.ts', ['--interface', net.address('elc'), '--search-interval-ms', '2000'], {
    label: 'echonet-lite controller in elc',
  });
  const controller = net.node('ctl', 'test/support/netns-controller.ts', controllerArgs(net.address('ctl')), { label: 'our controller in ctl' });

  // Discovery: its search (Get 0xD6, 0x83, maps from 0x0EF001) is answered by our node profile.
  const searchAnswer = await elc.waitForLine(
    (line) => frameFrom(simAddress, '0ef001', '72')(line) && detailsOf(line).d6 !== undefined,
    STARTUP_MS,
    "our node's answer to the package's search",
  );
  assert.equal(detailsOf(searchAnswer).d6, '01013001', 'the instance list holds exactly our air conditioner');
  assert.equal(detailsOf(searchAnswer)['83'], nodeId, 'the node profile 0x83 is the one the simulator announced');

  // Reading: its Get of 0x80/0xB0/0xB3/0xBB, answered with what our own controller reads.
  const elRead = await elc.waitForLine(
    (line) => frameFrom(simAddress, '013001', '72')(line) && ['80', 'b0', 'b3', 'bb'].every((epc) => (detailsOf(line)[epc] ?? '') !== ''),
    STARTUP_MS,
    "our unit's Get_Res to the package",
  );
  const ourPoll = await controller.waitForLine(
    (line) => observationOf(line)?.kind === 'poll' && observationOf(line)?.deviceId === `${nodeId}-013001`,
    STARTUP_MS,
    'our controller reading the same unit',
  );
  const ours = observationOf(ourPoll) as Observation;
  const theirs = detailsOf(elRead);
  for (const epc of ['80', 'b0', 'b3', 'bb']) assert.equal(theirs[epc], ours.raw[epc], `0x${epc} reads the same in both controllers`);
  assert.match(theirs['80'] ?? '', /^3[01]$/);

  // The package's own follow-ups: it decodes our 0x9F (bitmap form) and Gets every EPC listed there.
  const getMapFrame = await elc.waitForLine((line) => frameFrom(simAddress, '013001', '72')(line) && detailsOf(line)['9f'] !== undefined, STARTUP_MS, "our unit's 0x9F");
  const theirMap = (detailsOf(getMapFrame)['9f']?.slice(2).match(/../g) ?? []).map((epc) => parseInt(epc, 16));
  const discovered = await controller.waitForLine((line) => line.type === 'device' && line.event === 'discovered', STARTUP_MS, 'our controller discovering the unit');
  const ourMap = (discovered.device as { maps: { get: number[] } }).maps.get;
  assert.deepEqual([...theirMap].sort((a, b) => a - b), ourMap, 'both implementations decode our Get map alike');
  const wanted = theirMap.map((epc) => epc.toString(16)).filter((epc) => !['9d', '9e', '9f'].includes(epc));
  await elc.waitFor(
    (lines) => {
      const got = new Set(lines.filter(frameFrom(simAddress, '013001', '72')).flatMap((line) => Object.entries(detailsOf(line)).filter(([, edt]) => edt !== '').map(([epc]) => epc)));
      return wanted.every((epc) => got.has(epc)) ? true : undefined;
    },
    STARTUP_MS,
    'the package to read every EPC of our Get map',
  );

  // Setting: the package's SetC of 0xB3 is accepted, announced by INF (heard by both controllers) and read back.
  const before = Number.parseInt(theirs.b3 ?? '0', 16);
  const target = before === 18 ? 19 : 18;
  const targetHex = target.toString(16).padStart(2, '0');
  elc.send({ cmd: 'setc', to: simAddress, eoj: '013001', epc: 'b3', edt: targetHex });
  const setRes = await elc.waitForLine(frameFrom(simAddress, '013001', '71'), 10_000, 'Set_Res to the SetC');
  assert.deepEqual(detailsOf(setRes), { b3: '' });
  const elInf = await elc.waitForLine((line) => frameFrom(simAddress, '013001', '73')(line) && detailsOf(line).b3 !== undefined, 10_000, 'the INF of the new target');
  assert.equal(detailsOf(elInf).b3, targetHex);
  await controller.waitForLine(
    (line) => observationOf(line)?.kind === 'inf' && observationOf(line)?.properties.targetTemperature === target,
    10_000,
    'our controller hearing the same INF',
  );
  elc.send({ cmd: 'get', to: simAddress, eoj: '013001', epcs: ['b3'] });
  await elc.waitForLine((line) => frameFrom(simAddress, '013001', '72')(line) && detailsOf(line).b3 === targetHex && Object.keys(detailsOf(line)).length === 1, 10_000, 'the new target read back');

  assert.deepEqual(
    elc.lines.filter((line) => line.type === 'library-error'),
    [],
    'the package parsed every frame our simulator and controller sent',
  );
  for (const proc of [elc, controller, sim]) assert.deepEqual(await proc.stop(), { code: 0, signal: null }, proc.tail());
  await destroyTopology(net);
});

// ---------------------------------------------------------------------------------------------
// c. our controller ← a uecho device, on loopback

const UECHO_DEVICE = fileURLToPath(new URL('../support/interop-uecho-device.py', import.meta.url));
/** The same air conditioner as in a., less what uecho's own 0x0130 object fixes itself (the maps). */
const UECHO_PROPERTIES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(DEVICE_PROPERTIES).filter(([epc]) => epc !== '81'));

afterEach(stopOpened);

test('our controller discovers a uecho air conditioner on loopback and reads its values', { timeout: 40_000 }, async () => {
  const python = requiredEnv('ECHOLAKE_TEST_INTEROP_PYTHON');
  const rig = await onFreePort((port) => openController(port));
  const events: DeviceEvent[] = [];
  rig.controller.on('device', (event) => events.push(event));
  const address = '127.0.0.2';
  const config = JSON.stringify({ properties: UECHO_PROPERTIES });
  const args = [UECHO_DEVICE, '--address', address, '--multicast-interface', INTERFACE, '--port', String(rig.port), '--config', config];
  const device = new HostProcess('lo', 'uecho device', spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } }));
  stopAfterTest(async () => void (await device.stop()));
  const ready = await device.waitForLine((line) => line.type === 'ready', STARTUP_MS, 'the uecho device to bind');
  assert.equal(ready.address, address);
  const nodeId = String(ready.nodeId);
  assert.match(nodeId, /^fe000000[0-9a-f]{26}$/, "uecho's node profile 0x83: FE, maker 000000, 13 random bytes");

  // Discovery: our multicast search (pinned to 127.0.0.1) is answered by uecho's node profile.
  assert.ok((await rig.controller.searchNow()) >= 1, 'uecho answered the search');
  const found = await waitFor('the uecho device discovered', () => events.find((e) => e.type === 'discovered' && e.device.address === address), 10_000);
  const deviceId = `${nodeId}-013001`;
  assert.equal(found.device.deviceId, deviceId, "the device id is uecho's 0x83 plus the EOJ");
  assert.equal(found.device.eoj, '013001');
  assert.equal(found.device.manufacturer, 'ffffff', "the object's own 0x8A");

  // Reading: a poll returns exactly the bytes uecho holds, decoded as the APPENDIX says.
  const polled = await waitFor(
    'a full poll of the uecho device',
    () => rig.observations.find((o) => o.kind === 'poll' && o.deviceId === deviceId && Object.keys(o.properties).length >= Object.keys(EXPECTED_VALUES).length),
    10_000,
  );
  assert.equal(polled.address, address);
  for (const [name, value] of Object.entries(EXPECTED_VALUES)) assert.deepEqual(polled.properties[name], value, `${name} as configured`);
  for (const [epc, edt] of Object.entries(polled.raw)) assert.equal(edt, UECHO_PROPERTIES[epc], `raw ${epc} is the EDT uecho holds`);
  const gets = device.lines.filter((line) => line.type === 'request' && line.esv === '62' && line.deoj === '013001');
  assert.ok(gets.length > 0 && gets.every((line) => line.from === INTERFACE), 'uecho saw our Gets, from our address');
  assert.deepEqual(await device.stop(), { code: 0, signal: null }, device.tail());
});
