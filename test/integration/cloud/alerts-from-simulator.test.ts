import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { stringify } from 'yaml';
import type { Alert } from '../../../cloud/alerts/alert.js';
import { TopicFollower } from '../../../cloud/kafka/follower.js';
import { startSimulator, type SimulatorHandle } from '../../../edge/simulator/simulator.js';
import { silentLogger } from '../../../shared/log.js';
import { cloudTestEnv } from '../../support/cloud-sites.js';
import { Deployable } from '../../support/deployable.js';
import { requiredEnv } from '../../support/env.js';
import { python } from '../../support/python.js';
import { waitFor } from '../../support/wait.js';

// The incidents of the default rules that need a real site, driven through the whole path:
// simulated aircons on UDP → the edge (polling, outbox, MQTT) → Mosquitto → the cloud's ingest →
// Kafka → the alerts role → the alerts topic → the lake's alerts table, read back by delta-rs.
// A unit stops cooling, a unit reports a fault, a unit goes silent, and the whole site goes silent
// (the edge is killed): each incident fires once and resolves once, on the topic and in the table.
// The default rules' names and shapes, with durations of seconds instead of minutes.
const run = randomUUID().slice(0, 8);
const siteId = `alerts-sim-${run}`;
const work = mkdtempSync(join(tmpdir(), 'echolake-alerts-sim-'));
const echonetPort = 20_000 + Math.floor(Math.random() * 20_000);
const alertsTopic = `alerts-${run}`;
const kafka = new Kafka({ clientId: `alerts-sim-${run}`, brokers: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
const onTopic: Alert[] = [];
const follower = new TopicFollower(kafka, { topic: alertsTopic, groupPrefix: `test-${run}` }, (m) => onTopic.push(JSON.parse(String(m.value)) as Alert));
const parts: Array<{ stop(): Promise<unknown> }> = [];

after(async () => {
  for (const part of parts.reverse()) await part.stop();
  await follower.stop().catch(() => undefined);
});

const RULES = {
  rules: [
    {
      name: 'aircon-not-cooling',
      type: 'window',
      summary: 'Cooling, but the room stays well above the set temperature',
      severity: 'warning',
      scope: 'device',
      classes: ['0130'],
      where: { operationStatus: true, operationMode: 'cooling' },
      window: { size: '3s' },
      aggregate: 'avg',
      property: 'roomTemperature',
      condition: { op: '>', threshold: { property: 'targetTemperature', offset: 3 } },
      resolve: { threshold: { property: 'targetTemperature', offset: 1.5 } },
      for: 2,
    },
    { name: 'aircon-fault', type: 'instant', summary: 'The unit reports a fault', severity: 'critical', scope: 'device', classes: ['0130'], property: 'faultStatus', condition: { op: '==', value: true } },
    { name: 'device-silent', type: 'absence', summary: 'No readings from the unit', severity: 'warning', scope: 'device', after: '12s' },
    { name: 'site-silent', type: 'absence', summary: "No readings from the site's gateway", severity: 'critical', scope: 'site', after: '15s' },
  ],
};

function startEdge(): Deployable {
  const edge = new Deployable('edge', 'edge/main.ts', [], {
    ECHOLAKE_EDGE_SITE_ID: siteId,
    ECHOLAKE_EDGE_STATE_DIR: join(work, 'edge'),
    ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
    ECHOLAKE_EDGE_ECHONET__PORT: String(echonetPort),
    ECHOLAKE_EDGE_ECHONET__POLL_INTERVAL_MS: '1000',
    // A silent unit must not hold up the polls of the others long enough to look silent too.
    ECHOLAKE_EDGE_ECHONET__REQUEST_TIMEOUT_MS: '300',
    ECHOLAKE_EDGE_ECHONET__RETRIES: '0',
    ECHOLAKE_EDGE_BUFFER__COMMIT_INTERVAL_MS: '200',
    ECHOLAKE_EDGE_UPLINK__BATCH_MAX_AGE_MS: '500',
    ECHOLAKE_EDGE_UPLINK__URL: requiredEnv('ECHOLAKE_TEST_MQTT_URL'),
    ECHOLAKE_EDGE_API__PORT: '0',
  });
  parts.push(edge);
  return edge;
}

const describeTopic = () => onTopic.map((a) => `${a.rule}/${a.deviceId ?? 'site'}/${a.state}`).join(', ');
const count = (rule: string, deviceId: string | null, state: Alert['state']) => onTopic.filter((a) => a.rule === rule && a.deviceId === deviceId && a.state === state).length;

async function seen(rule: string, deviceId: string | null, state: Alert['state'], times: number, cloud: Deployable): Promise<void> {
  try {
    await waitFor(`${rule} ${state} for ${deviceId ?? 'the site'}`, () => count(rule, deviceId, state) >= times, 60_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}; on the topic: ${describeTopic()}\n${cloud.tail(40)}`);
  }
}

test('a unit that stops cooling, faults or goes silent, and a silent site: one firing and one resolved alert each, on the topic and in the alerts table', { timeout: 300_000 }, async () => {
  const rulesFile = join(work, 'rules.yaml');
  writeFileSync(rulesFile, stringify(RULES));
  const cloud = new Deployable('cloud', 'cloud/main.ts', [], {
    ...(await cloudTestEnv(work, [siteId])),
    ECHOLAKE_CLOUD_ROLES__ALERTS: 'true',
    ECHOLAKE_CLOUD_MQTT__URL: requiredEnv('ECHOLAKE_TEST_MQTT_URL'),
    ECHOLAKE_CLOUD_MQTT__CLIENT_ID: `ingest-${run}`,
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: `ingest-${run}`,
    ECHOLAKE_CLOUD_KAFKA__BROKERS: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS'),
    ECHOLAKE_CLOUD_KAFKA__PARTITIONS: '2',
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: `readings-${run}`,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: `dlq-${run}`,
    ECHOLAKE_CLOUD_LAKE__ROOT: join(work, 'lake'),
    ECHOLAKE_CLOUD_LAKE__GROUP_ID: `lake-${run}`,
    ECHOLAKE_CLOUD_LAKE__MAX_AGE_MS: '1000',
    ECHOLAKE_CLOUD_ALERTS__RULES_FILE: rulesFile,
    ECHOLAKE_CLOUD_ALERTS__GROUP_ID: `alerts-${run}`,
    ECHOLAKE_CLOUD_ALERTS__TRANSACTIONAL_ID_PREFIX: `alerts-${run}`,
    ECHOLAKE_CLOUD_ALERTS__ALLOWED_LATENESS_MS: '1500',
    ECHOLAKE_CLOUD_ALERTS__SESSION_TIMEOUT_MS: '6000',
    ECHOLAKE_CLOUD_ALERTS__TOPICS__ALERTS: alertsTopic,
    ECHOLAKE_CLOUD_ALERTS__TOPICS__CHANGELOG: `alerts-state-${run}`,
    ECHOLAKE_CLOUD_ALERTS__TOPICS__SILENCES: `silences-${run}`,
    ECHOLAKE_CLOUD_ALERTS__TOPICS__SITE_READINGS: `site-readings-${run}`,
    ECHOLAKE_CLOUD_ALERTS__TOPICS__SITE_CHANGELOG: `site-state-${run}`,
  });
  parts.push(cloud);
  await cloud.waitFor((e) => e.msg === 'alert engine started', 60_000, 'the alert engine');
  await cloud.waitFor((e) => e.msg === 'alerts table writer started', 60_000, 'the alerts table writer');
  await follower.start();

  // Frozen physics (tickMs 0): the values change only when the test changes them. Both units cool a room already at its set point.
  const simulator: SimulatorHandle = await startSimulator({ interfaceAddress: '127.0.0.1', baseAddress: '127.0.4.2', nodes: 2, port: echonetPort, tickMs: 0, seed: 11, logger: silentLogger() });
  let simulatorRunning = true;
  parts.push({ stop: () => (simulatorRunning ? simulator.stop() : Promise.resolve()) });
  const [unitA, unitB] = simulator.nodes;
  assert.ok(unitA && unitB);
  for (const unit of simulator.nodes) {
    await unit.update({ operationStatus: true, operationMode: 'cooling', targetTemperature: 25, roomTemperature: 25, faultStatus: false });
  }
  let edge = startEdge();
  await edge.waitFor(() => edge.events.filter((e) => e.msg === 'echonet device discovered').length === 2, 30_000, 'two devices discovered');
  await cloud.waitFor((e) => e.msg === 'readings committed to delta', 60_000, 'readings through to the lake');

  // The unit cools, but the room stays at 30 °C with 25 °C set; later it reaches 25 °C again.
  await unitA.update({ roomTemperature: 30 });
  await seen('aircon-not-cooling', unitA.deviceId, 'firing', 1, cloud);
  await unitA.update({ roomTemperature: 25 });
  await seen('aircon-not-cooling', unitA.deviceId, 'resolved', 1, cloud);

  await unitB.update({ faultStatus: true });
  await seen('aircon-fault', unitB.deviceId, 'firing', 1, cloud);
  await unitB.update({ faultStatus: false });
  await seen('aircon-fault', unitB.deviceId, 'resolved', 1, cloud);

  // The unit stops answering (its Wi-Fi adapter hangs); the gateway and the other unit carry on.
  unitB.setSilent(true);
  await seen('device-silent', unitB.deviceId, 'firing', 1, cloud);
  unitB.setSilent(false);
  await seen('device-silent', unitB.deviceId, 'resolved', 1, cloud);

  // The gateway dies: the site and both its units go silent, then it comes back with the same database.
  assert.equal(await edge.stop('SIGKILL'), null);
  await seen('site-silent', null, 'firing', 1, cloud);
  await seen('device-silent', unitA.deviceId, 'firing', 1, cloud);
  await seen('device-silent', unitB.deviceId, 'firing', 2, cloud);
  edge = startEdge();
  await seen('site-silent', null, 'resolved', 1, cloud);
  await seen('device-silent', unitA.deviceId, 'resolved', 1, cloud);
  await seen('device-silent', unitB.deviceId, 'resolved', 2, cloud);

  // A little longer, so a late double would show; then the units stop for good.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await edge.stop();
  await simulator.stop();
  simulatorRunning = false;
  const expected = [
    `aircon-not-cooling/${unitA.deviceId}`,
    `aircon-fault/${unitB.deviceId}`,
    `device-silent/${unitB.deviceId}`,
    `site-silent/site`,
    `device-silent/${unitA.deviceId}`,
    `device-silent/${unitB.deviceId}`,
  ];
  const firing = onTopic.filter((a) => a.state === 'firing');
  assert.deepEqual(firing.map((a) => `${a.rule}/${a.deviceId ?? 'site'}`).sort(), [...expected].sort(), `the incidents, each fired once: ${describeTopic()}`);
  for (const alert of firing) {
    const states = onTopic.filter((a) => a.id === alert.id).map((a) => a.state);
    assert.deepEqual(states, ['firing', 'resolved'], `${alert.rule}/${alert.deviceId ?? 'site'}: one firing, then one resolved`);
    assert.equal(alert.siteId, siteId);
  }
  const notCooling = firing.find((a) => a.rule === 'aircon-not-cooling')!;
  assert.equal(notCooling.threshold, 28, 'the set point (25) plus 3');
  assert.equal(notCooling.value, 30);

  // The lake's alerts table, as delta-rs reads it, holds the same records once each.
  const table = join(work, 'lake', 'alerts');
  const readTable = () =>
    python<Array<{ id: string; state: string; rule: string }>>(
      `
import json, sys
from deltalake import DeltaTable
print(json.dumps(DeltaTable(sys.argv[1]).to_pandas()[["id", "state", "rule"]].to_dict(orient="records")))
`,
      table,
    );
  const deadline = Date.now() + 60_000;
  let rows = await readTable();
  while (rows.length < onTopic.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    rows = await readTable();
  }
  const key = (a: { id: string; state: string }) => `${a.id}/${a.state}`;
  assert.deepEqual(rows.map(key).sort(), onTopic.map(key).sort(), 'the table holds every record of the topic, once');
});
