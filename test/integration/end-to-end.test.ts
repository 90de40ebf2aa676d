import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startSimulator, type ServedValues, type SimulatorHandle } from '../../edge/simulator/simulator.js';
import { silentLogger } from '../../shared/log.js';
import { readDeltaTable, type DeltaRow } from '../support/delta-reader.js';
import { Deployable, type LogEvent } from '../support/deployable.js';
import { requiredEnv } from '../support/env.js';
import { cloudTestEnv } from '../support/cloud-sites.js';

// The walking skeleton: simulated aircons on UDP → the edge (multicast discovery on loopback,
// polling, SQLite outbox, MQTT) → Mosquitto → the cloud (Kafka, Delta) → read back by delta-rs.
// Every process is real and stopped by its own PID; multicast stays on 127.0.0.1.
const run = randomUUID().slice(0, 8);
const siteId = `e2e-${run}`;
const echonetPort = 20_000 + Math.floor(Math.random() * 20_000);
const work = mkdtempSync(join(tmpdir(), 'echolake-e2e-'));
const parts: Array<{ stop(): Promise<unknown> }> = [];

after(async () => {
  for (const part of parts.reverse()) await part.stop();
});

const outboxCommits = (events: LogEvent[]) => events.filter((e) => e.msg === 'readings committed to the outbox');
const lastSeqCommitted = (events: LogEvent[]) => Math.max(0, ...outboxCommits(events).map((e) => Number(e.lastSeq)));
const readingsCommitted = (events: LogEvent[]) => outboxCommits(events).reduce((sum, e) => sum + Number(e.readings), 0);
const acknowledgedThrough = (events: LogEvent[]) =>
  Math.max(0, ...events.filter((e) => e.msg === 'batch acknowledged by the cloud').map((e) => Number(String(e.batchId).split('-')[1])));
const rowsInDelta = (events: LogEvent[]) =>
  events.filter((e) => e.msg === 'readings committed to delta').reduce((sum, e) => sum + Number(e.rows), 0);

test('readings served by simulated aircons arrive in the Delta table exactly once, as served', { timeout: 180_000 }, async () => {
  const mqttUrl = requiredEnv('ECHOLAKE_TEST_MQTT_URL');
  const cloud = new Deployable('cloud', 'cloud/main.ts', [], {
    ...(await cloudTestEnv(work, [siteId])),
    ECHOLAKE_CLOUD_MQTT__URL: mqttUrl,
    ECHOLAKE_CLOUD_MQTT__CLIENT_ID: `ingest-${run}`,
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: `ingest-${run}`,
    ECHOLAKE_CLOUD_KAFKA__BROKERS: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS'),
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: `readings-${run}`,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: `dlq-${run}`,
    ECHOLAKE_CLOUD_LAKE__ROOT: join(work, 'lake'),
    ECHOLAKE_CLOUD_LAKE__GROUP_ID: `lake-${run}`,
    ECHOLAKE_CLOUD_LAKE__MAX_AGE_MS: '500',
  });
  parts.push(cloud);
  await cloud.waitFor((e) => e.msg === 'lake writer started', 60_000, 'the lake writer');

  const simulator: SimulatorHandle = await startSimulator({
    interfaceAddress: '127.0.0.1',
    baseAddress: '127.0.3.2',
    nodes: 3,
    port: echonetPort,
    tickMs: 500,
    timeScale: 120,
    seed: 7,
    logger: silentLogger(),
  });
  let simulatorStopped = false;
  parts.push({ stop: () => (simulatorStopped ? Promise.resolve() : simulator.stop()) });

  const edge = new Deployable('edge', 'edge/main.ts', [], {
    ECHOLAKE_EDGE_SITE_ID: siteId,
    ECHOLAKE_EDGE_STATE_DIR: join(work, 'edge'),
    ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
    ECHOLAKE_EDGE_API__PORT: '0',
    ECHOLAKE_EDGE_ECHONET__PORT: String(echonetPort),
    ECHOLAKE_EDGE_ECHONET__POLL_INTERVAL_MS: '1000',
    ECHOLAKE_EDGE_BUFFER__COMMIT_INTERVAL_MS: '200',
    ECHOLAKE_EDGE_UPLINK__URL: mqttUrl,
  });
  parts.push(edge);

  // A few poll cycles, and a change at one unit that it announces by INF.
  await edge.waitFor(() => edge.events.filter((e) => e.msg === 'echonet device discovered').length === 3, 30_000, 'three devices discovered');
  await edge.waitFor(() => readingsCommitted(edge.events) >= 9, 30_000, 'nine readings in the outbox');

  // What an installer sees on the local API meanwhile.
  const api = String((await edge.waitFor((e) => e.msg === 'local API listening', 10_000, 'the local API')).url);
  const listed = (await (await fetch(`${api}/elapi/v1/devices`)).json()) as { devices: Array<{ id: string; availability: string; deviceType: string }> };
  assert.deepEqual(listed.devices.map((d) => d.id).sort(), simulator.nodes.map((n) => n.deviceId).sort());
  assert.ok(listed.devices.every((d) => d.availability === 'online' && d.deviceType === 'homeAirConditioner'));
  const target = simulator.nodes[1];
  const properties = (await (await fetch(`${api}/elapi/v1/devices/${target?.deviceId}/properties`)).json()) as Record<string, unknown>;
  assert.equal(properties.operationStatus, target?.reported().operationStatus);
  const status = (await (await fetch(`${api}/api/v1/status`)).json()) as { siteId: string; uplink: { state: string } };
  assert.equal(status.siteId, siteId);
  assert.equal(status.uplink.state, 'connected');
  await simulator.nodes[0]?.update({ targetTemperature: 21 });
  await edge.waitFor(() => readingsCommitted(edge.events) >= 15, 30_000, 'more readings');
  await simulator.stop();
  simulatorStopped = true;

  // Nothing more can be read; wait until everything the edge made is acknowledged and committed.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const made = readingsCommitted(edge.events);
  const lastSeq = lastSeqCommitted(edge.events);
  await edge.waitFor(() => acknowledgedThrough(edge.events) >= lastSeq, 30_000, `seq ${lastSeq} acknowledged`);
  await cloud.waitFor(() => rowsInDelta(cloud.events) >= made, 30_000, `${made} rows in the table`);

  const { rows } = await readDeltaTable(join(work, 'lake', 'readings'));
  const firstSeq = lastSeq - made + 1;
  assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: made }, (_, i) => firstSeq + i), 'one unbroken run of seqs, each exactly once');
  assert.ok(rows.every((r) => r.siteId === siteId));

  for (const node of simulator.nodes) {
    const served = node.served().filter(isReading);
    const stored = rows.filter((r) => r.deviceId === node.deviceId && r.kind !== 'event');
    // Device events (on by default) share the seq and the table: each unit's discovery is one.
    const events = rows.filter((r) => r.deviceId === node.deviceId && r.kind === 'event');
    assert.ok(events.some((r) => r.eventType === 'found' && r.address === node.address), `device ${node.deviceId}: its found event is in the table`);
    assert.ok(stored.length >= 3, `device ${node.deviceId} has readings`);
    assert.deepEqual(stored.map(asServed), served.map(asServed).slice(0, stored.length), `device ${node.deviceId}: the table holds what it served, in order`);
    assert.equal(stored.length, served.length, `device ${node.deviceId}: every reply it served is in the table`);
    for (const row of stored) {
      assert.equal(row.eoj, '013001');
      assert.equal(row.address, node.address);
      assert.equal(row.targetTemperature, Number.parseInt(asServed(row).raw.b3 ?? '', 16), 'typed column decoded from the raw EDT');
    }
  }
  const announced = rows.filter((r) => r.kind === 'inf' && r.deviceId === simulator.nodes[0]?.deviceId);
  assert.ok(announced.some((r) => r.targetTemperature === 21), 'the INF of the new target temperature is a reading too');
});

/** The controller's discovery reads the unit's identity and property maps: a description, not a reading. */
const DESCRIPTION_EPCS = new Set(['82', '83', '8a', '9d', '9e', '9f']);
const isReading = (served: ServedValues) => Object.keys(served.raw).some((epc) => !DESCRIPTION_EPCS.has(epc));

function asServed(value: DeltaRow | ServedValues): { kind: string; raw: Record<string, string> } {
  const raw = 'seq' in value ? (JSON.parse(String(value.raw)) as Record<string, string>) : { ...value.raw };
  return { kind: value.kind, raw };
}
