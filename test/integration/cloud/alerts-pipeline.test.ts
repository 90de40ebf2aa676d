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

function engine(engineRules = rules, metrics = new AlertMetrics(new Registry())): { consumer: PartitionedConsumer; fatal: Error[] } {
  const fatal: Error[] = [];
  const factory = new AlertPartitions(
    kafka,
    { topics: { ...topics, input: topics.readings }, mode: 'devices', siteStream: topics.siteReadings, groupId, transactionalIdPrefix: `alerts-${run}`, transactionTimeoutMs: 10_000, allowedLatenessMs: 5_000, maxClockSkewMs: 300_000, restoreTimeoutMs: 30_000 },
    engineRules,
    { get: () => ({ name: 'Test site', timeZone: 'UTC', thresholds: {} }) },
    metrics,
    log,
  );
  const consumer = new PartitionedConsumer(kafka, { groupId, topic: topics.readings, flushIntervalMs: 200, sessionTimeoutMs: 10_000, fromBeginning: true, onFatal: (err) => fatal.push(err) }, factory, log);
  return { consumer, fatal };
}

function readings(device: string, partition: number, fromSecond: number, temps: number[], extra: { faultStatus?: boolean; siteId?: string; ts?: string } = {}): Array<{ partition: number; key: string; value: string; timestamp: string }> {
  return temps.map((t, i) => {
    seq += 1;
    const ts = extra.ts ?? new Date(T0 + (fromSecond + i * 20) * 1000).toISOString();
    const reading = { v: 1, siteId: extra.siteId ?? 'site-a', seq, deviceId: device, eoj: '013001', address: '127.0.0.2', ts, kind: 'poll', properties: { roomTemperature: t, faultStatus: extra.faultStatus ?? false }, raw: {} };
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

test('a gateway clock set to 2199 in the same partition does not silence the other site; a rule removed while the engine was down resolves its alert on restore', async () => {
  const registry = new Registry();
  const first = engine(rules, new AlertMetrics(registry));
  await first.consumer.start();
  const before = seen.length;
  // Another site's device, keyed into partition 0 like dev-1, whose gateway believes it is 2199.
  await producer.send({ topic: topics.readings, messages: readings('dev-9', 0, 0, [20], { siteId: 'site-b', ts: new Date(Date.UTC(2199, 0, 1)).toISOString() }) });
  await producer.send({ topic: topics.readings, messages: readings('dev-3', 0, 200, [35, 35, 35, 35], { faultStatus: true }) });
  await waitUntil(() => seen.length >= before + 2, 'the fault and the hot alert of site-a');
  // Counters are reported after each commit: wait for the one that took the 2199 reading.
  let text = await registry.metrics();
  for (let i = 0; i < 50 && !/echolake_alerts_future_readings_total 1\n/.test(text); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    text = await registry.metrics();
  }
  await first.consumer.stop();
  const fired = (await alertsOnTopic()).slice(before);
  assert.deepEqual(fired.map((a) => [a.rule, a.state, a.siteId, a.deviceId]).sort(), [
    ['fault', 'firing', 'site-a', 'dev-3'],
    ['hot', 'firing', 'site-a', 'dev-3'],
  ]);
  assert.match(text, /echolake_alerts_future_readings_total 1\n/, 'the 2199 reading is counted');
  assert.match(text, /echolake_alerts_late_readings_total 0\n/, 'and made nothing late');

  // Restarted with the fault rule gone: the restored state's fault alert resolves, the hot one carries on.
  const second = engine(rules.filter((r) => r.name !== 'fault'));
  await second.consumer.start();
  await waitUntil(() => seen.length >= before + 3, 'the fault alert resolved by the rule change');
  await second.consumer.stop();
  const after = (await alertsOnTopic()).slice(before + 2);
  assert.deepEqual(after.map((a) => [a.rule, a.state, a.cause, a.id]), [['fault', 'resolved', 'rule-changed', fired.find((a) => a.rule === 'fault')!.id]]);
  assert.deepEqual([...first.fatal, ...second.fatal], []);
});
