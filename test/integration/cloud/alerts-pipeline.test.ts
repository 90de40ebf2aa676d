import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import type { Alert } from '../../../cloud/alerts/alert.js';
import { AlertMetrics } from '../../../cloud/alerts/metrics.js';
import { AlertPartitions } from '../../../cloud/alerts/partitions.js';
import { parseRules } from '../../../cloud/alerts/rules.js';
import { ensureAlertTopics } from '../../../cloud/alerts/topics.js';
import { PartitionedConsumer } from '../../../cloud/kafka/consumer.js';
import { TopicFollower } from '../../../cloud/kafka/follower.js';
import { createLogger, silentLogger } from '../../../shared/log.js';
const log = process.env.ALERTS_TEST_LOG === '1' ? createLogger('test', 'debug') : silentLogger();
import { requiredEnv } from '../../support/env.js';

// The engine on real Kafka, in this process: state and offsets committed in one transaction per
// partition, a second owner restoring from the changelog and a replayed stretch emitting nothing.
const run = randomUUID().slice(0, 8);
const topics = { readings: `readings-${run}`, alerts: `alerts-${run}`, changelog: `alerts-state-${run}`, silences: `silences-${run}`, siteReadings: `site-readings-${run}`, siteChangelog: `site-state-${run}` };
const groupId = `alerts-${run}`;
const kafka = new Kafka({ clientId: 'alerts-test', brokers: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
const rules = parseRules(`rules:
  - { name: hot, type: window, summary: hot, severity: warning, scope: device, window: { size: 1m }, aggregate: avg, property: roomTemperature, condition: { op: '>', threshold: 30 }, resolve: { threshold: 28 } }
  - { name: fault, type: instant, summary: fault, severity: critical, scope: device, property: faultStatus, condition: { op: '==', value: true } }`);
const T0 = Date.UTC(2026, 0, 1);
let producer: Producer;
let seq = 0;

function engine(): { consumer: PartitionedConsumer; fatal: Error[] } {
  const fatal: Error[] = [];
  const factory = new AlertPartitions(
    kafka,
    { topics: { ...topics, input: topics.readings }, mode: 'devices', siteStream: topics.siteReadings, groupId, transactionalIdPrefix: `alerts-${run}`, transactionTimeoutMs: 10_000, allowedLatenessMs: 5_000, maxClockSkewMs: 300_000, restoreTimeoutMs: 30_000 },
    rules,
    { get: () => ({ name: 'Test site', timeZone: 'UTC', thresholds: {} }) },
    new AlertMetrics(new Registry()),
    log,
  );
  const consumer = new PartitionedConsumer(kafka, { groupId, topic: topics.readings, flushIntervalMs: 200, sessionTimeoutMs: 10_000, fromBeginning: true, onFatal: (err) => fatal.push(err) }, factory, log);
  return { consumer, fatal };
}

function readings(device: string, partition: number, fromSecond: number, temps: number[]): Array<{ partition: number; key: string; value: string; timestamp: string }> {
  return temps.map((t, i) => {
    seq += 1;
    const reading = { v: 1, siteId: 'site-a', seq, deviceId: device, eoj: '013001', address: '127.0.0.2', ts: new Date(T0 + (fromSecond + i * 20) * 1000).toISOString(), kind: 'poll', properties: { roomTemperature: t, faultStatus: false }, raw: {} };
    return { partition, key: device, value: JSON.stringify(reading), timestamp: String(Date.now()) };
  });
}

const seen: Alert[] = [];
const follower = new TopicFollower(kafka, { topic: topics.alerts, groupPrefix: `reader-${run}` }, (message) => seen.push(JSON.parse(String(message.value)) as Alert));

/** Every alert on the topic once the follower has read it to its end (the engines have stopped: all is committed). */
async function alertsOnTopic(): Promise<Alert[]> {
  await follower.caughtUp(30_000);
  return [...seen];
}

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topics.readings, numPartitions: 2 }] });
  await admin.disconnect();
  await ensureAlertTopics(kafka, topics, { partitions: 2, replicationFactor: 1 });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await follower.start();
});

after(async () => {
  await producer?.disconnect();
  await follower.stop();
});

test('an incident fires once and resolves once; a new owner restores the state and a replay adds nothing', async () => {
  const first = engine();
  await first.consumer.start();
  await producer.send({ topic: topics.readings, messages: [...readings('dev-1', 0, 0, [31, 32, 33]), ...readings('dev-2', 1, 0, [20, 20, 20])] });
  await producer.send({ topic: topics.readings, messages: [...readings('dev-1', 0, 60, [29, 29, 29]), ...readings('dev-2', 1, 60, [20, 20, 20])] });
  await waitUntil(() => seen.length >= 1, 'the firing alert');
  await first.consumer.stop();
  const fired = await alertsOnTopic();
  assert.deepEqual(fired.map((a) => [a.rule, a.state, a.deviceId, a.value]), [['hot', 'firing', 'dev-1', 32]]);

  // The second owner continues from the committed state; the resent first batch changes nothing.
  const second = engine();
  await second.consumer.start();
  const resent = readings('dev-1', 0, 0, [31, 32, 33]).map((m, i) => ({ ...m, value: m.value.replace(/"seq":\d+/, `"seq":${i + 1}`) }));
  await producer.send({ topic: topics.readings, messages: resent });
  await producer.send({ topic: topics.readings, messages: readings('dev-1', 0, 120, [27, 27, 27, 27, 27]) });
  await waitUntil(() => seen.length >= 2, 'the resolved alert');
  await second.consumer.stop();
  const all = await alertsOnTopic();
  assert.deepEqual(all.map((a) => [a.rule, a.state]), [['hot', 'firing'], ['hot', 'resolved']]);
  assert.equal(all[1]!.id, all[0]!.id);
  assert.deepEqual([...first.fatal, ...second.fatal], []);
});
