/**
 * Our ECHONET Lite stack on a real (virtual) LAN: four `echolake-sim` processes, each a node in its
 * own network namespace, our controller in another, all on one Linux bridge in a hub namespace
 * (see test/support/netns.ts). Discovery is by multicast across the bridge, polling by unicast,
 * and a change made by a third party (a SetC from another host) reaches the controller as an INF.
 *
 * Needs root (network namespaces); fails, never skips, without it. Traffic stays inside the
 * namespaces this test creates.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Observation } from '../../shared/reading.js';
import { type OutputLine, NetnsTopology, assertNetnsPrerequisites } from '../support/netns.js';

const SIM_HOSTS = ['s1', 's2', 's3', 's4'] as const;
const PORT = '3610';
const STARTUP_MS = 15_000;

let topology: NetnsTopology | undefined;
after(async () => {
  await topology?.destroy();
});

const isDiscovered = (line: OutputLine): boolean => line.type === 'device' && line.event === 'discovered';
const observationOf = (line: OutputLine): Observation | undefined => (line.type === 'observation' ? (line.observation as Observation) : undefined);

test('controller discovers, polls and hears INF from simulated aircons in four namespaces across a bridge', { timeout: 50_000 }, async () => {
  assertNetnsPrerequisites();
  topology = await NetnsTopology.create(['ctl', ...SIM_HOSTS, 'remote']);
  const net = topology;

  // One simulated node per namespace, each on its namespace's address; distinct seeds give distinct
  // identification numbers (0x83). --tick-ms 0 freezes the units: values change only by Set.
  const sims = SIM_HOSTS.map((host, index) =>
    net.node(
      host,
      'edge/simulator/main.ts',
      ['--nodes', '1', '--base-address', net.address(host), '--interface', net.address(host), '--port', PORT, '--tick-ms', '0', '--seed', String(index + 1)],
      { label: `echolake-sim in ${host}` },
    ),
  );
  const ups = await Promise.all(sims.map((sim) => sim.waitForLine((line) => line.msg === 'simulated air conditioner up', STARTUP_MS, 'its node to come up')));
  const expected = new Map<string, string>();
  for (const [index, up] of ups.entries()) {
    const host = SIM_HOSTS[index] as string;
    assert.equal(up.address, net.address(host), `${host}'s node binds its namespace address`);
    assert.match(String(up.nodeId), /^feffffff[0-9a-f]{26}$/, `${host}'s node has a 17-byte 0x83 with maker code ffffff`);
    assert.equal(up.deviceId, `${String(up.nodeId)}-013001`);
    expected.set(String(up.deviceId), net.address(host));
  }
  assert.equal(expected.size, SIM_HOSTS.length, 'every node has its own identification number');

  // The controller starts after the nodes announced themselves, so it finds them by its multicast search.
  const controller = net.node('ctl', 'test/support/netns-controller.ts', ['--interface', net.address('ctl'), '--port', PORT, '--poll-interval-ms', '1000'], {
    label: 'controller in ctl',
  });
  const discovered = await controller.waitForLines(isDiscovered, SIM_HOSTS.length, STARTUP_MS, `${SIM_HOSTS.length} discovered devices`);
  const found = new Map(
    discovered.map((line) => {
      const device = line.device as { deviceId: string; address: string; eoj: string; manufacturer: string | null };
      assert.equal(device.eoj, '013001');
      assert.equal(device.manufacturer, 'ffffff');
      return [device.deviceId, device.address] as const;
    }),
  );
  assert.deepEqual(found, expected, 'each simulated node is found at its namespace address under its 0x83-based id');

  // Every device is read by unicast polling.
  const polls = await controller.waitFor(
    (lines) => {
      const first = new Map<string, Observation>();
      for (const observation of lines.map(observationOf)) {
        if (observation?.kind === 'poll' && !first.has(observation.deviceId)) first.set(observation.deviceId, observation);
      }
      return first.size >= SIM_HOSTS.length ? first : undefined;
    },
    STARTUP_MS,
    'a poll observation from each device',
  );
  for (const [deviceId, observation] of polls) {
    assert.ok(expected.has(deviceId), `poll of unknown device ${deviceId}`);
    assert.equal(observation.address, expected.get(deviceId));
    assert.equal(observation.eoj, '013001');
    assert.equal(typeof observation.properties.operationStatus, 'boolean', `${deviceId} operationStatus`);
    assert.equal(typeof observation.properties.targetTemperature, 'number', `${deviceId} targetTemperature`);
    assert.equal(typeof observation.properties.roomTemperature, 'number', `${deviceId} roomTemperature`);
    for (const epc of ['80', 'b3', 'bb']) assert.match(observation.raw[epc] ?? '', /^[0-9a-f]{2}$/, `${deviceId} raw ${epc}`);
  }

  // A third party (another controller on the LAN, host `remote`) changes s3's target temperature.
  // The unit announces the change by a multicast INF, which must reach our controller as kind 'inf'.
  const changedHost = 's3';
  const changedId = [...expected].find(([, address]) => address === net.address(changedHost))?.[0] as string;
  const before = polls.get(changedId)?.properties.targetTemperature;
  const newTarget = before === 18 ? 19 : 18;
  const setc = net.node(
    'remote',
    'test/support/netns-setc.ts',
    ['--interface', net.address('remote'), '--to', net.address(changedHost), '--eoj', '013001', '--epc', 'b3', '--edt', newTarget.toString(16).padStart(2, '0')],
    { label: 'SetC from remote' },
  );
  const answer = await setc.waitForLine((line) => line.type === 'answer' || line.type === 'timeout', 10_000, 'the SetC answer');
  assert.equal(answer.type, 'answer', setc.tail());
  assert.equal(answer.esv, '71', 'the unit accepted the SetC (Set_Res)');
  assert.equal((await setc.exited).code, 0);

  const inf = await controller.waitForLine(
    (line) => {
      const observation = observationOf(line);
      return observation?.kind === 'inf' && observation.deviceId === changedId && observation.properties.targetTemperature === newTarget;
    },
    10_000,
    `an INF observation of ${changedHost}'s new target temperature`,
  );
  const infObservation = observationOf(inf) as Observation;
  assert.equal(infObservation.address, net.address(changedHost));
  assert.equal(infObservation.raw.b3, newTarget.toString(16).padStart(2, '0'));
  const otherInfs = controller.lines.map(observationOf).filter((o) => o?.kind === 'inf' && o.deviceId !== changedId);
  assert.deepEqual(otherInfs, [], 'units nobody changed announce nothing');

  // Clean stops: each process by its own PID, each exits 0.
  const controllerExit = await controller.stop();
  assert.deepEqual(controllerExit, { code: 0, signal: null }, controller.tail());
  assert.ok(controller.lines.some((line) => line.type === 'stopped'));
  for (const sim of sims) assert.deepEqual(await sim.stop(), { code: 0, signal: null }, sim.tail());

  await net.destroy();
  topology = undefined;
});
