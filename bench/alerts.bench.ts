// `npm run bench alerts`: the alert engine (cloud/alerts/) with the shipped default rules.
//   throughput — readings per second through one partition's engine on one core, 10,000 aircons (500 sites),
//                each polled once a minute of event time: JSON parse + evaluate, and evaluate alone;
//   memory     — RSS and heap holding the state of 100,000 aircons (5,000 sites) with every window open;
//   restore    — reading one partition's state back from the compacted changelog on Kafka (10,000 aircons);
//   latency    — on real Kafka, from a window's close (its end plus the allowed lateness, wall clock) to its
//                alert on the alerts topic as a read_committed consumer sees it (200 devices, 5 s windows).
// ECHOLAKE_BENCH_ALERTS=throughput,memory,latency picks parts (memory includes restore).
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import type { Alert } from '../cloud/alerts/alert.js';
import { changelogMessages, MARKER_KEY, restorePartitions } from '../cloud/alerts/changelog.js';
import { chunksOfBytes } from '../cloud/kafka/send-chunks.js';
import { PartitionEvaluator, type AlertInput, type SubjectState } from '../cloud/alerts/evaluator.js';
import { parseAlertInput } from '../cloud/alerts/input.js';
import { AlertMetrics } from '../cloud/alerts/metrics.js';
import { AlertPartitions } from '../cloud/alerts/partitions.js';
import { loadRulesFile, parseRules } from '../cloud/alerts/rules.js';
import { ensureAlertTopics } from '../cloud/alerts/topics.js';
import { PartitionedConsumer } from '../cloud/kafka/consumer.js';
import { TopicFollower } from '../cloud/kafka/follower.js';
import { silentLogger } from '../shared/log.js';
import { machineLine } from './support/proc.js';
import { goal, mib, num, percentile, ranged, runBenchmark, sleep, spread, table } from './support/report.js';

const RULES = loadRulesFile(fileURLToPath(new URL('../cloud/alerts/default-rules.yaml', import.meta.url)));
const SITES = { get: () => ({ name: 'bench', timeZone: 'UTC', thresholds: { humidityMin: 35 } }) };
const LATENESS_MS = 30_000;
const T0 = Date.UTC(2026, 0, 1);
const DEVICES_PER_SITE = 20;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** Reading `round` of device `index`: one poll a minute, devices spread over the minute; a few run hot. */
function aircon(index: number, round: number, seq: number): AlertInput {
  const hot = index % 50 === 0;
  return {
    siteId: `site-${Math.floor(index / DEVICES_PER_SITE)}`,
    seq,
    deviceId: `fe00000b${String(index).padStart(26, '0')}-013001`,
    eoj: '013001',
    ts: new Date(T0 + round * 60_000 + (index % 60) * 1000).toISOString(),
    kind: 'poll',
    properties: {
      operationStatus: true,
      operationMode: 'cooling',
      targetTemperature: 26,
      roomTemperature: hot ? 31 : 26 + (round % 3) * 0.5,
      humidity: 45,
      outdoorTemperature: 33,
      instantaneousElectricPowerConsumption: 850,
      faultStatus: false,
    },
  };
}

/** Feeds `rounds` polls of `devices` devices in batches, as the consumer would; returns seconds spent in the engine. */
function feed(engine: PartitionEvaluator, devices: number, rounds: number, asJson: boolean, firstRound = 0): number {
  const BATCH = 5000;
  const seqs = new Map<string, number>();
  let spent = 0;
  let batch: AlertInput[] = [];
  // When the cloud took the batch: after the round's last poll, as the ingest would (readings are never stamped ahead of it).
  let receivedAt = 0;
  const run = (): void => {
    const payloads = asJson ? batch.map((r) => Buffer.from(JSON.stringify(r))) : undefined;
    const started = process.hrtime.bigint();
    if (payloads !== undefined) {
      for (const payload of payloads) {
        const parsed = parseAlertInput(payload);
        if (parsed.ok) engine.process(parsed.input, receivedAt);
      }
    } else {
      for (const input of batch) engine.process(input, receivedAt);
    }
    engine.advance();
    spent += Number(process.hrtime.bigint() - started) / 1e9;
    engine.drain();
    batch = [];
  };
  for (let round = firstRound; round < firstRound + rounds; round += 1) {
    receivedAt = T0 + (round + 1) * 60_000;
    for (let index = 0; index < devices; index += 1) {
      const site = `site-${Math.floor(index / DEVICES_PER_SITE)}`;
      const seq = (seqs.get(site) ?? round * DEVICES_PER_SITE) + 1;
      seqs.set(site, seq);
      batch.push(aircon(index, round, seq));
      if (batch.length === BATCH) run();
    }
  }
  if (batch.length > 0) run();
  return spent;
}

function throughput(): string {
  const devices = 10_000;
  const rounds = 60;
  const rates = { json: [] as number[], engine: [] as number[] };
  for (let repetition = 0; repetition < 3; repetition += 1) {
    for (const asJson of [true, false]) {
      const engine = new PartitionEvaluator(RULES, SITES, LATENESS_MS, T0);
      feed(engine, devices, 5, asJson); // warm-up: windows open, JIT warm
      const seconds = feed(engine, devices, rounds, asJson, 5);
      // A late reading is dropped cheaply: counted as throughput, it would flatter the figure.
      if (engine.counters.late > 0) throw new Error(`${engine.counters.late} of ${engine.counters.readings} readings were late: the figure would not measure the engine's work`);
      (asJson ? rates.json : rates.engine).push((devices * rounds) / seconds);
      gc();
    }
  }
  const json = spread(rates.json);
  return [
    `### throughput: ${num(devices)} aircons in ${num(devices / DEVICES_PER_SITE)} sites, ${rounds} polls each, ${RULES.length} default rules, one partition on one core`,
    table(
      ['path', 'readings/s (min–median–max of 3)', 'goal > 200,000/s'],
      [
        ['JSON parse + engine (as the role runs)', ranged(json, 0), goal(json.median > 200_000)],
        ['engine alone', ranged(spread(rates.engine), 0), ''],
      ],
    ),
  ].join('\n');
}

function memory(): { report: string; engine: PartitionEvaluator } {
  gc();
  const before = process.memoryUsage();
  const devices = 100_000;
  const engine = new PartitionEvaluator(RULES, SITES, LATENESS_MS, T0);
  feed(engine, devices, 12, false); // 12 minutes: every 5- and 10-minute window of every rule is open
  gc();
  const after = process.memoryUsage();
  const report = [
    `### memory: state of ${num(devices)} aircons in ${num(devices / DEVICES_PER_SITE)} sites (${num(engine.subjectCount)} subjects, every window open)`,
    table(
      ['RSS', 'RSS growth', 'heap used growth', 'per aircon'],
      [[`${num(mib(after.rss), 0)} MiB`, `${num(mib(after.rss - before.rss), 0)} MiB`, `${num(mib(after.heapUsed - before.heapUsed), 0)} MiB`, `${num((after.heapUsed - before.heapUsed) / devices, 0)} B`]],
    ),
  ].join('\n');
  return { report, engine };
}

async function restore(kafka: Kafka, source: PartitionEvaluator, run: string): Promise<string> {
  const topic = `bench-alerts-state-${run}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
  await admin.disconnect();
  const devices = 10_000;
  const sites = devices / DEVICES_PER_SITE;
  const states = source.allStates().filter((s) => (s.deviceId === null ? Number(s.siteId.slice(5)) < sites : Number(s.deviceId.slice(8, 34)) < devices));
  const producer = kafka.producer({ transactionalId: `bench-alerts-${run}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let bytes = 0;
  for (let start = 0; start < states.length; start += 1000) {
    const entries = states.slice(start, start + 1000).map((state) => ({ key: state.key, value: JSON.stringify(state) }));
    bytes += entries.reduce((sum, e) => sum + e.value.length, 0);
    const transaction = await producer.transaction();
    for (const messages of chunksOfBytes(changelogMessages(0, entries))) await transaction.send({ topic, messages });
    await transaction.commit();
  }
  const marker = `marker-${run}`;
  const transaction = await producer.transaction();
  await transaction.send({ topic, messages: changelogMessages(0, [{ key: MARKER_KEY, value: marker }]) });
  await transaction.commit();
  await producer.disconnect();
  const times: number[] = [];
  for (let repetition = 0; repetition < 3; repetition += 1) {
    const started = process.hrtime.bigint();
    const restored = await restorePartitions(kafka, topic, new Map([[0, marker]]), { groupPrefix: `bench-${run}`, timeoutMs: 120_000, heartbeat: () => Promise.resolve(), log: silentLogger() });
    const engine = new PartitionEvaluator(RULES, SITES, LATENESS_MS, Date.now());
    for (const value of restored.get(0)!.values()) engine.restore(JSON.parse(value) as SubjectState);
    times.push(Number(process.hrtime.bigint() - started) / 1e9);
    if (engine.subjectCount !== states.length) throw new Error(`restored ${engine.subjectCount} subjects of ${states.length}`);
  }
  return [
    `### restore: one partition's state from the changelog (${num(states.length)} subjects: ${num(devices)} aircons and their sites, ${num(mib(bytes), 1)} MiB of JSON)`,
    table(['seconds (min–median–max of 3)', 'subjects/s (median)'], [[ranged(spread(times), 2), num(states.length / spread(times).median, 0)]]),
  ].join('\n');
}

async function latency(kafka: Kafka, run: string): Promise<string> {
  const topics = { readings: `bench-readings-${run}`, alerts: `bench-alerts-${run}`, changelog: `bench-alerts-state-l-${run}`, silences: `bench-silences-${run}`, siteReadings: `bench-site-readings-${run}`, siteChangelog: `bench-site-state-${run}` };
  const windowMs = 5000;
  const latenessMs = 1000;
  const devices = 200;
  const rules = parseRules(`rules:
  - { name: flip, type: window, summary: flips every window, severity: info, scope: device, window: { size: 5s }, aggregate: avg, property: roomTemperature, condition: { op: '>', threshold: 30 } }`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topics.readings, numPartitions: 2 }] });
  await admin.disconnect();
  await ensureAlertTopics(kafka, topics, { partitions: 2, replicationFactor: 1 });
  const log = silentLogger();
  const registry = new Registry();
  const factory = new AlertPartitions(
    kafka,
    { topics: { ...topics, input: topics.readings }, mode: 'devices', siteStream: topics.siteReadings, groupId: `bench-${run}`, transactionalIdPrefix: `bench-${run}`, transactionTimeoutMs: 10_000, allowedLatenessMs: latenessMs, maxClockSkewMs: 300_000, restoreTimeoutMs: 60_000 },
    rules,
    SITES,
    new AlertMetrics(registry),
    log,
  );
  const fatal: Error[] = [];
  const consumer = new PartitionedConsumer(kafka, { groupId: `bench-${run}`, topic: topics.readings, flushIntervalMs: 200, sessionTimeoutMs: 10_000, fromBeginning: true, onFatal: (err) => fatal.push(err) }, factory, log);
  const samples: number[] = [];
  const follower = new TopicFollower(kafka, { topic: topics.alerts, groupPrefix: `bench-${run}` }, (message) => {
    const alert = JSON.parse(String(message.value)) as Alert;
    samples.push(Date.now() - (Date.parse(alert.windowEnd!) + latenessMs));
  });
  await follower.start();
  await consumer.start();
  const producer = kafka.producer();
  await producer.connect();
  const seqs = new Array<number>(devices).fill(0);
  const until = Date.now() + 45_000;
  while (Date.now() < until) {
    const now = Date.now();
    // Hot in even windows, cool in odd ones: every window's close fires or resolves every device.
    const hot = Math.floor(now / windowMs) % 2 === 0;
    const messages = Array.from({ length: devices }, (_, i) => {
      seqs[i]! += 1;
      const reading = { siteId: `site-${i % 10}`, seq: seqs[i]! * devices + i, deviceId: `dev-${i}`, eoj: '013001', ts: new Date(now).toISOString(), kind: 'poll', properties: { roomTemperature: hot ? 35 : 20 } };
      return { key: reading.deviceId, value: JSON.stringify(reading) };
    });
    await producer.send({ topic: topics.readings, messages });
    await sleep(250);
  }
  await sleep(3000);
  await producer.disconnect();
  await consumer.stop();
  await follower.stop();
  if (fatal.length > 0) throw new Error('the engine failed', { cause: fatal[0] });
  if (samples.length < 4 * devices) throw new Error(`only ${samples.length} alerts arrived; expected one per device and window`);
  const sorted = samples.slice(2 * devices); // the first windows include the group's start
  return [
    `### latency: window close (end + ${latenessMs} ms lateness) → alert read from the topic; ${devices} devices, ${windowMs / 1000} s windows, commits every 200 ms`,
    table(
      ['alerts', 'p50', 'p99', 'max', 'goal p99 < 1 s'],
      [[num(sorted.length), `${num(percentile(sorted, 50), 0)} ms`, `${num(percentile(sorted, 99), 0)} ms`, `${num(Math.max(...sorted), 0)} ms`, goal(percentile(sorted, 99) < 1000)]],
    ),
  ].join('\n');
}

runBenchmark('alerts', async () => {
  const brokers = process.env.ECHOLAKE_TEST_KAFKA_BROKERS;
  if (brokers === undefined) throw new Error('ECHOLAKE_TEST_KAFKA_BROKERS is not set: run it with `npm run bench alerts` (it starts Kafka)');
  console.log(`machine: ${machineLine()}`);
  const kafka = new Kafka({ clientId: 'bench-alerts', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const run = Date.now().toString(36);
  const parts = (process.env.ECHOLAKE_BENCH_ALERTS ?? 'throughput,memory,latency').split(',');
  if (parts.includes('throughput')) console.log(throughput());
  if (parts.includes('memory')) {
    const { report, engine } = memory();
    console.log(report);
    console.log(await restore(kafka, engine, run));
  }
  if (parts.includes('latency')) console.log(await latency(kafka, run));
  return 0;
});
