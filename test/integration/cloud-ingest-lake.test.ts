import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { connectAsync, type MqttClient } from 'mqtt';
import type { BatchAck, EventReading, Reading, ReadingBatch } from '../../shared/reading.js';
import { readDeltaTable } from '../support/delta-reader.js';
import { Deployable, type LogEvent } from '../support/deployable.js';
import { requiredEnv } from '../support/env.js';
import { aircon } from '../support/observations.js';
import { cloudTestEnv } from '../support/cloud-sites.js';

// The cloud's half on real Mosquitto and real Kafka: batches in, acks out only after Kafka,
// a resent batch dropped by the lake, a malformed batch to the dead-letter topic, device events
// (the edge sends them by default) stored in the lake's event columns.
const run = randomUUID().slice(0, 8);
const siteId = `site-${run}`;
const topics = { readings: `readings-${run}`, deadLetter: `dlq-${run}` };
const lakeRoot = mkdtempSync(join(tmpdir(), 'echolake-lake-'));
let cloud: Deployable;
let site: MqttClient;
const acks: BatchAck[] = [];

before(async () => {
  cloud = new Deployable('cloud', 'cloud/main.ts', [], {
    ...(await cloudTestEnv(lakeRoot, [siteId])),
    ECHOLAKE_CLOUD_MQTT__URL: requiredEnv('ECHOLAKE_TEST_MQTT_URL'),
    ECHOLAKE_CLOUD_MQTT__CLIENT_ID: `ingest-${run}`,
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: `ingest-${run}`,
    ECHOLAKE_CLOUD_KAFKA__BROKERS: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS'),
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: topics.readings,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: topics.deadLetter,
    ECHOLAKE_CLOUD_LAKE__ROOT: lakeRoot,
    ECHOLAKE_CLOUD_LAKE__GROUP_ID: `lake-${run}`,
    ECHOLAKE_CLOUD_LAKE__MAX_AGE_MS: '300',
  });
  await cloud.waitFor((e) => e.msg === 'lake writer started', 60_000, 'the lake writer');
  await cloud.waitFor((e) => e.msg === 'ingest subscribed', 60_000, 'the ingest subscription');
  site = await connectAsync(requiredEnv('ECHOLAKE_TEST_MQTT_URL'), { clientId: `site-${run}`, protocolVersion: 5 });
  site.on('message', (_topic, payload) => acks.push(JSON.parse(payload.toString()) as BatchAck));
  await site.subscribeAsync(`echolake/v1/sites/${siteId}/acks`, { qos: 1 });
});

after(async () => {
  await site?.endAsync();
  assert.equal(await cloud?.stop(), 0, 'the cloud exits cleanly on SIGTERM');
});

const reading = (seq: number): Reading => ({ v: 1, siteId, seq, ...aircon(seq % 4, { ts: new Date(Date.UTC(2026, 10, 23, 0, 0, seq)).toISOString() }) });
const batchOf = (first: number, last: number): ReadingBatch => {
  const readings = Array.from({ length: last - first + 1 }, (_, i) => reading(first + i));
  return { v: 1, siteId, batchId: `${first}-${last}`, readings };
};

async function publishAndAwaitAck(payload: string, batchId: string): Promise<BatchAck> {
  const seen = acks.length;
  await site.publishAsync(`echolake/v1/sites/${siteId}/readings`, payload, { qos: 1 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ack = acks.slice(seen).find((a) => a.batchId === batchId);
    if (ack !== undefined) return ack;
    if (Date.now() > deadline) throw new Error(`no ack for batch ${batchId}\n${cloud.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const committedRows = (events: LogEvent[]) =>
  events.filter((e) => e.msg === 'readings committed to delta').reduce((sum, e) => sum + Number(e.rows), 0);

test('batches are acknowledged after Kafka, and a resent batch lands in the table once', async () => {
  assert.deepEqual(await publishAndAwaitAck(JSON.stringify(batchOf(1, 5)), '1-5'), { v: 1, siteId, batchId: '1-5', lastSeq: 5 });
  // The site never saw the ack (say): it sends the same batch again.
  assert.equal((await publishAndAwaitAck(JSON.stringify(batchOf(1, 5)), '1-5')).lastSeq, 5);
  assert.equal((await publishAndAwaitAck(JSON.stringify(batchOf(6, 9)), '6-9')).lastSeq, 9);

  await cloud.waitFor(() => committedRows(cloud.events) >= 9, 30_000, '9 rows committed');
  const dropped = cloud.waitFor((e) => e.msg === 'readings already in the table dropped (a resent batch)', 30_000, 'the duplicate drop');
  await dropped;
  const table = await readDeltaTable(join(lakeRoot, 'readings'));
  assert.deepEqual(table.rows.map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'each seq exactly once, per delta-rs');
  const first = table.rows[0];
  assert.ok(first !== undefined);
  assert.equal(first.siteId, siteId);
  assert.equal(first.ts, '2026-11-23T00:00:01.000Z');
  assert.equal(first.date, '2026-11-23');
  assert.equal(first.targetTemperature, 26);
  assert.equal(first.roomTemperature, 27);
  assert.equal(first.operationStatus, true);
  assert.deepEqual(JSON.parse(String(first.raw)), aircon(1).raw);
});

test('a malformed batch goes to the dead-letter topic with its reason, and the site is not stalled', async () => {
  const broken = { ...batchOf(10, 11), readings: [reading(10), { ...reading(11), ts: 'yesterday' }] };
  const ack = await publishAndAwaitAck(JSON.stringify(broken), '10-11');
  assert.equal(ack.lastSeq, 11);
  await cloud.waitFor((e) => e.msg === 'batch dead-lettered', 10_000, 'the rejection');

  const kafka = new Kafka({ clientId: `check-${run}`, brokers: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `check-${run}` });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.deadLetter, fromBeginning: true });
  const letter = await new Promise<{ reason: string; detail: string; value: string }>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const header = (name: string) => String(message.headers?.[name] ?? '');
        resolve({ reason: header('reason'), detail: header('detail'), value: String(message.value) });
        await Promise.resolve();
      },
    });
  });
  await consumer.disconnect();
  assert.equal(letter.reason, 'invalid');
  assert.match(letter.detail, /ts must match format "date-time"/);
  assert.deepEqual(JSON.parse(letter.value), broken, 'the dead letter keeps the batch byte for byte');
});

test('device events travel like readings: acked after Kafka, in the lake\'s event columns, read back by delta-rs', async () => {
  const at = (second: number): string => new Date(Date.UTC(2026, 10, 23, 0, 1, second)).toISOString();
  const device = { deviceId: aircon(1).deviceId, eoj: '013001' };
  const moved: EventReading = {
    v: 1, siteId, seq: 13, ...device, address: '127.0.0.12', ts: at(13), kind: 'event', event: { type: 'moved', fromAddress: '127.0.0.11', toAddress: '127.0.0.12' },
  };
  const offline: EventReading = { v: 1, siteId, seq: 14, ...device, address: '127.0.0.12', ts: at(14), kind: 'event', event: { type: 'offline' } };
  const batch: ReadingBatch = { v: 1, siteId, batchId: '12-14', readings: [reading(12), moved, offline] };
  assert.equal((await publishAndAwaitAck(JSON.stringify(batch), '12-14')).lastSeq, 14);

  // Rows 1–9 from the first test, 10–11 dead-lettered, these three.
  await cloud.waitFor(() => committedRows(cloud.events) >= 12, 30_000, '12 rows committed');
  const rows = new Map((await readDeltaTable(join(lakeRoot, 'readings'))).rows.map((row) => [row.seq, row]));
  assert.deepEqual([...rows.keys()], [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14]);
  const columns = (seq: number) => {
    const row = rows.get(seq);
    assert.ok(row, `seq ${seq} is in the table`);
    const { kind, deviceId, address, ts, eventType, eventFromAddress, eventToAddress, targetTemperature } = row;
    return { kind, deviceId, address, ts, eventType, eventFromAddress, eventToAddress, targetTemperature };
  };
  assert.deepEqual(columns(13), {
    kind: 'event', deviceId: device.deviceId, address: '127.0.0.12', ts: at(13),
    eventType: 'moved', eventFromAddress: '127.0.0.11', eventToAddress: '127.0.0.12', targetTemperature: null,
  });
  assert.deepEqual(columns(14), {
    kind: 'event', deviceId: device.deviceId, address: '127.0.0.12', ts: at(14),
    eventType: 'offline', eventFromAddress: null, eventToAddress: null, targetTemperature: null,
  });
  const poll = columns(12);
  assert.equal(poll.kind, 'poll');
  assert.equal(poll.eventType, null, 'a reading has no event');
  assert.equal(poll.targetTemperature, 26);
});
