// `npm run bench edge-drain`: a backlog of 1,000,000 readings in the edge's SQLite outbox, drained
// by the real edge (edge/main.ts) through Mosquitto to the real cloud ingest (cloud/main.ts, ingest
// role only) into Kafka. Per uplink batch size: readings/s and time until the backlog is empty,
// the edge's RSS (VmRSS every 250 ms), CPU per process, and a check that Kafka holds every reading.
// Then each step of a batch's trip timed on its own, to say where the time goes.
//
// Batch sizes are compared on a shorter backlog first (two rounds); the full backlog then drains
// once with the smallest batch size within 10 % of the fastest. The cloud creates its topics as it does in
// production (Kafka's default max.message.bytes, 1 MiB per partition's record batch); a batch size
// Kafka refuses that way is reported (the site would resend it forever), then tried again on a
// topic the bench creates beforehand with max.message.bytes raised to 16 MiB.
//
// Each run has its own topics and MQTT client ids; afterwards the topics are deleted and the
// persistent MQTT sessions discarded, or the broker would queue every later run's batches for them.
//
// The edge runs as installed: the build (`npm run build` first) under the Node flags of the systemd
// unit's ExecStart, or ECHOLAKE_BENCH_EDGE_NODE_FLAGS (space-separated) to try others. The cloud
// runs from source.
//
// Knobs (environment): ECHOLAKE_BENCH_DRAIN_READINGS (default 1000000), ECHOLAKE_BENCH_DRAIN_COMPARE_READINGS
// (default 200000; 0 skips the comparison), ECHOLAKE_BENCH_DRAIN_COMPARE_ROUNDS (default 2),
// ECHOLAKE_BENCH_DRAIN_BATCHES (default 500,2000,5000), ECHOLAKE_BENCH_DRAIN_TIMEOUT_S (default 240 per run).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Kafka, logLevel, type ConfigResourceTypes } from 'kafkajs';
import { connectAsync } from 'mqtt';
import { ReadingStore } from '../edge/buffer/reading-store.js';
import { silentLogger } from '../shared/log.js';
import { Deployable, type LogEvent } from '../test/support/deployable.js';
import { unitNodeFlags } from '../test/support/edge-node-flags.js';
import { requiredEnv } from '../test/support/env.js';
import { airconBatch, type AirconFleet } from './support/aircon-readings.js';
import { breakdown, maintainToEnd, timeMaintenance, timeStats, type BatchBreakdown } from './support/drain-breakdown.js';
import { cpuSeconds, machineCpu, machineLine, pidListeningOn, rssBytes } from './support/proc.js';
import { median, mib, num, percentile, sleep, table, runBenchmark } from './support/report.js';
import { cloudTestEnv } from '../test/support/cloud-sites.js';

const TOTAL = Number(process.env.ECHOLAKE_BENCH_DRAIN_READINGS ?? 1_000_000);
const COMPARE_READINGS = Number(process.env.ECHOLAKE_BENCH_DRAIN_COMPARE_READINGS ?? 200_000);
const COMPARE_ROUNDS = Number(process.env.ECHOLAKE_BENCH_DRAIN_COMPARE_ROUNDS ?? 2);
const BATCHES = (process.env.ECHOLAKE_BENCH_DRAIN_BATCHES ?? '500,2000,5000').split(',').map(Number);
const DRAIN_TIMEOUT_MS = Number(process.env.ECHOLAKE_BENCH_DRAIN_TIMEOUT_S ?? 240) * 1000;
const GOAL_PER_SECOND = 20_000;
/** Batch sizes this close to the fastest count as equally fast (runs on a shared machine vary more than that). */
const NEAR_FASTEST = 0.1;
const GOAL_RSS_BYTES = 100 * 2 ** 20;
const SAMPLE_MS = 250;
const FILL_PER_TRANSACTION = 10_000;
/** Far above 1M readings (≈0.9 GB): the byte cap must not drop any of the backlog. */
const STORE_MAX_BYTES = 4 * 2 ** 30;
/** The most the edge's configuration allows. */
const BATCH_MAX_BYTES = 4 * 2 ** 20;
/** For the topics the bench creates itself when Kafka's default refuses a batch. */
const RAISED_TOPIC_MAX_MESSAGE_BYTES = 16 * 2 ** 20;
const TOO_LARGE = /larger than the max message size/i;

const EDGE_NODE_FLAGS = process.env.ECHOLAKE_BENCH_EDGE_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? unitNodeFlags();

const mqttUrl = requiredEnv('ECHOLAKE_TEST_MQTT_URL');
const kafkaBrokers = requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS');
const siteId = `bench-drain-${randomUUID().slice(0, 8)}`;

interface Fill {
  path: string;
  total: number;
  firstSeq: number;
  lastSeq: number;
  seconds: number;
  fileBytes: number;
  jsonBytesPerReading: number;
}

/** The backlog: a site of 100 aircons, a reading every 200 ms, ≈55 hours without a link. */
function fillBacklog(dir: string, total: number): Fill {
  const path = join(dir, 'edge.db');
  const store = ReadingStore.open({ path, siteId, durability: 'NORMAL', maxBytes: STORE_MAX_BYTES, historyMs: 86_400_000 }, silentLogger());
  const fleet: AirconFleet = { devices: 100, spacingMs: 200, endAt: Date.now(), total };
  const started = process.hrtime.bigint();
  let firstSeq = 0;
  let lastSeq = 0;
  for (let from = 0; from < total; from += FILL_PER_TRANSACTION) {
    const readings = store.append(airconBatch(from, Math.min(FILL_PER_TRANSACTION, total - from), fleet));
    firstSeq ||= readings[0]?.seq ?? 0;
    lastSeq = readings[readings.length - 1]?.seq ?? lastSeq;
    if (from % 200_000 === 0) process.stdout.write('.');
  }
  // Over 55 hours the edge's housekeeping would have indexed the history as it went.
  maintainToEnd(store, fleet.endAt + 11 * 60_000);
  const stats = store.stats();
  const sample = store.oldestUnsent(1000, BATCH_MAX_BYTES);
  store.close(); // checkpoints the WAL into the file, so a plain copy is the whole database
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (stats.backlog !== total) throw new Error(`the backlog holds ${stats.backlog} readings, expected ${total}`);
  return {
    path,
    total,
    firstSeq,
    lastSeq,
    seconds,
    fileBytes: statSync(path).size,
    jsonBytesPerReading: sample === undefined ? 0 : sample.bytes / sample.payloads.length,
  };
}

interface Sample {
  at: number;
  edgeRss: number | undefined;
  cloudRss: number | undefined;
  cpu: Record<string, number | undefined>;
  machine: { busy: number; total: number };
}

interface DrainResult {
  batch: number;
  readings: number;
  /** The readings topic was made beforehand with max.message.bytes raised (not as the cloud makes it). */
  raisedTopicLimit: boolean;
  /** The readings topic's max.message.bytes, as Kafka reports it. */
  topicMaxMessageBytes: number | undefined;
  topicPartitions: number;
  /** Kafka refused the batches: the site can never get past them with this topic. */
  tooLarge: boolean;
  ok: boolean;
  problems: string[];
  drainSeconds: number;
  perSecond: number;
  startupSeconds: number;
  batches: number;
  resends: number;
  kafkaMessages: number;
  backlogAfter: number | undefined;
  /** The edge's minute housekeeping that pruned history while the drain ran, and how much. */
  maintenanceRuns: number;
  prunedDuringDrain: number;
  edgeRssPeak: number;
  edgeRssMedian: number;
  edgeRssAtConnect: number;
  cloudRssPeak: number;
  /** CPU seconds per wall second during the drain (1.0 = one core busy). */
  cpuShare: Record<string, number>;
  machineBusyShare: number;
  /** Per batch, ms (median / p95): edge's own work between an ack and the next send, send → Kafka done in the cloud, cloud done → ack at the edge. */
  edgePrepMs: [number, number];
  sendToKafkaDoneMs: [number, number];
  ackPathMs: [number, number];
  roundTripMs: [number, number];
}

const time = (event: LogEvent | undefined): number => Number(event?.time ?? Number.NaN);

async function drainOnce(fill: Fill, batch: number, workDir: string, raisedTopicLimit: boolean): Promise<DrainResult> {
  const total = fill.total;
  const run = randomUUID().slice(0, 8);
  const stateDir = mkdtempSync(join(workDir, `drain-${batch}-`));
  copyFileSync(fill.path, join(stateDir, 'edge.db'));
  const topics = { readings: `bench-readings-${run}`, deadLetter: `bench-dlq-${run}` };
  const problems: string[] = [];
  const samples: Sample[] = [];
  const servicePids = {
    mosquitto: pidListeningOn(Number(new URL(mqttUrl).port)),
    kafka: pidListeningOn(Number(kafkaBrokers.split(',')[0]?.split(':')[1])),
  };
  if (raisedTopicLimit) await createTopic(topics.readings, RAISED_TOPIC_MAX_MESSAGE_BYTES);
  const cloud = new Deployable('cloud', 'cloud/main.ts', [], {
    ...(await cloudTestEnv(stateDir, [siteId])),
    LOG_LEVEL: 'info',
    ECHOLAKE_CLOUD_ROLES__LAKE: 'false',
    ECHOLAKE_CLOUD_MQTT__URL: mqttUrl,
    ECHOLAKE_CLOUD_MQTT__CLIENT_ID: `bench-ingest-${run}`,
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: `bench-ingest-${run}`,
    ECHOLAKE_CLOUD_KAFKA__BROKERS: kafkaBrokers,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: topics.readings,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: topics.deadLetter,
  });
  let edge: Deployable | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    await cloud.waitFor((e) => e.msg === 'ingest subscribed', 90_000, 'the ingest subscription');
    const spawnedAt = Date.now();
    edge = new Deployable('edge', 'dist/edge/main.js', [], {
      LOG_LEVEL: 'debug', // 'batch sent' is a debug event; one line per batch
      ECHOLAKE_EDGE_SITE_ID: siteId,
      ECHOLAKE_EDGE_STATE_DIR: stateDir,
      ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
      ECHOLAKE_EDGE_ECHONET__PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
      ECHOLAKE_EDGE_API__HOST: '127.0.0.1',
      ECHOLAKE_EDGE_API__PORT: '0',
      ECHOLAKE_EDGE_BUFFER__MAX_BYTES: String(STORE_MAX_BYTES),
      ECHOLAKE_EDGE_UPLINK__URL: mqttUrl,
      ECHOLAKE_EDGE_UPLINK__BATCH_MAX_READINGS: String(batch),
      ECHOLAKE_EDGE_UPLINK__BATCH_MAX_BYTES: String(BATCH_MAX_BYTES),
    }, EDGE_NODE_FLAGS);
    const edgePid = edge.pid;
    const cloudPid = cloud.pid;
    const sample = (): void => {
      samples.push({
        at: Date.now(),
        edgeRss: edgePid === undefined ? undefined : rssBytes(edgePid),
        cloudRss: cloudPid === undefined ? undefined : rssBytes(cloudPid),
        cpu: {
          edge: edgePid === undefined ? undefined : cpuSeconds(edgePid),
          cloud: cloudPid === undefined ? undefined : cpuSeconds(cloudPid),
          mosquitto: servicePids.mosquitto === undefined ? undefined : cpuSeconds(servicePids.mosquitto),
          kafka: servicePids.kafka === undefined ? undefined : cpuSeconds(servicePids.kafka),
        },
        machine: machineCpu(),
      });
    };
    sample();
    sampler = setInterval(sample, SAMPLE_MS);

    const connected = await edge.waitFor((e) => e.msg === 'uplink connected', 120_000, 'the uplink');
    const finalBatch = (e: LogEvent): boolean => e.msg === 'batch acknowledged by the cloud' && String(e.batchId).endsWith(`-${fill.lastSeq}`);
    const emptied = await waitForDrain(edge, cloud, finalBatch, problems);
    clearInterval(sampler);
    sample();

    const acks = edge.events.filter((e) => e.msg === 'batch acknowledged by the cloud');
    const sends = edge.events.filter((e) => e.msg === 'batch sent');
    const cloudDone = new Map(cloud.events.filter((e) => e.msg === 'batch in kafka').map((e) => [String(e.batchId), time(e)]));
    const resends = edge.events.filter((e) => e.msg === 'no acknowledgement; sending the batch again').length;
    const ackedReadings = acks.reduce((sum, e) => sum + Number(e.readings), 0);
    const start = time(connected);
    const end = emptied === undefined ? time(acks[acks.length - 1]) : time(emptied);
    const drainSeconds = (end - start) / 1000;

    // Per batch: edge prep (previous ack → this send), send → Kafka done (cloud log), cloud done → ack at the edge.
    const lastSendOf = new Map<string, number>();
    for (const e of sends) lastSendOf.set(String(e.batchId), time(e));
    const prep: number[] = [];
    const toKafka: number[] = [];
    const ackPath: number[] = [];
    let previousAck = start;
    for (const ack of acks) {
      const id = String(ack.batchId);
      const sentAt = lastSendOf.get(id);
      const doneAt = cloudDone.get(id);
      if (sentAt !== undefined) prep.push(sentAt - previousAck);
      if (sentAt !== undefined && doneAt !== undefined) toKafka.push(doneAt - sentAt);
      if (doneAt !== undefined) ackPath.push(time(ack) - doneAt);
      previousAck = time(ack);
    }
    const roundTrips = acks.map((e) => Number(e.roundTripMs));
    const pruned = edge.events.filter((e) => e.msg === 'history pruned' && time(e) >= start && time(e) <= end);

    // The gateway's own view once it says it is done, then Kafka's.
    let backlogAfter: number | undefined;
    try {
      const api = String((await edge.waitFor((e) => e.msg === 'local API listening', 10_000, 'the local API')).url);
      const status = (await (await fetch(`${api}/api/v1/status`)).json()) as { backlog: { depth: number } };
      backlogAfter = status.backlog.depth;
    } catch (err) {
      problems.push(`status: ${(err as Error).message}`);
    }
    const [kafkaMessages, topicPartitions] = await countMessages(topics.readings);
    const topicMaxMessageBytes = await topicConfig(topics.readings, 'max.message.bytes');

    const during = samples.filter((s) => s.at >= start && s.at <= end + SAMPLE_MS);
    const edgeRss = during.map((s) => s.edgeRss).filter((v): v is number => v !== undefined);
    const cloudRss = during.map((s) => s.cloudRss).filter((v): v is number => v !== undefined);
    const first = during[0];
    const last = during[during.length - 1];
    const wall = first !== undefined && last !== undefined ? (last.at - first.at) / 1000 : Number.NaN;
    const cpuShare: Record<string, number> = {};
    for (const name of ['edge', 'cloud', 'mosquitto', 'kafka']) {
      const a = first?.cpu[name];
      const b = last?.cpu[name];
      if (a !== undefined && b !== undefined) cpuShare[name] = (b - a) / wall;
    }
    const machineBusyShare =
      first !== undefined && last !== undefined ? (last.machine.busy - first.machine.busy) / ((last.machine.total - first.machine.total) / 2) : Number.NaN;
    const atConnect = samples.filter((s) => s.at <= start).pop()?.edgeRss ?? Number.NaN;

    if (emptied === undefined) problems.push(`only ${ackedReadings} of ${total} readings acknowledged`);
    if (backlogAfter !== 0) problems.push(`the edge still reports a backlog of ${backlogAfter}`);
    if (kafkaMessages < total) problems.push(`Kafka holds ${kafkaMessages} readings of ${total}`);
    const exitCode = await edge.stop();
    if (exitCode !== 0) problems.push(`the edge exited with ${exitCode} on SIGTERM`);
    return {
      batch,
      readings: total,
      raisedTopicLimit,
      topicMaxMessageBytes,
      topicPartitions,
      tooLarge: problems.some((p) => TOO_LARGE.test(p)),
      ok: problems.length === 0,
      problems,
      drainSeconds,
      perSecond: ackedReadings / drainSeconds,
      startupSeconds: (start - spawnedAt) / 1000,
      batches: acks.length,
      resends,
      kafkaMessages,
      backlogAfter,
      maintenanceRuns: pruned.length,
      prunedDuringDrain: pruned.reduce((sum, e) => sum + Number(e.pruned), 0),
      edgeRssPeak: Math.max(...edgeRss),
      edgeRssMedian: median(edgeRss),
      edgeRssAtConnect: atConnect,
      cloudRssPeak: Math.max(...cloudRss),
      cpuShare,
      machineBusyShare,
      edgePrepMs: [median(prep), percentile(prep, 95)],
      sendToKafkaDoneMs: [median(toKafka), percentile(toKafka, 95)],
      ackPathMs: [median(ackPath), percentile(ackPath, 95)],
      roundTripMs: [median(roundTrips), percentile(roundTrips, 95)],
    };
  } finally {
    clearInterval(sampler);
    await edge?.stop();
    await cloud.stop();
    // Both keep persistent sessions; left behind, the broker would queue every later run's batches for them.
    await discardSessions([`bench-ingest-${run}`, `echolake-edge-${siteId}`]);
    await deleteTopics([topics.readings, topics.deadLetter]);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/**
 * Until the edge logs the ack of the last seq. Stops early when Kafka refuses a batch as too large:
 * the site would send the same batch every ackTimeoutMs, forever.
 */
async function waitForDrain(edge: Deployable, cloud: Deployable, done: (e: LogEvent) => boolean, problems: string[]): Promise<LogEvent | undefined> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const found = edge.events.find(done);
    if (found !== undefined) return found;
    const refused = cloud.events.find((e) => e.msg === 'kafka write failed; batch left for the site to resend' && TOO_LARGE.test(String(e.err)));
    if (refused !== undefined) {
      problems.push(`Kafka refused batch ${String(refused.batchId)}: ${String(refused.err)}`);
      return undefined;
    }
    if (Date.now() > deadline) {
      problems.push(`timed out after ${DRAIN_TIMEOUT_MS / 1000} s`);
      return undefined;
    }
    await sleep(100);
  }
}

/** Ends persistent MQTT sessions: a clean start with session expiry 0 discards what the broker kept for a client id. */
async function discardSessions(clientIds: string[]): Promise<void> {
  for (const clientId of clientIds) {
    try {
      const client = await connectAsync(mqttUrl, { clientId, clean: true, protocolVersion: 5, properties: { sessionExpiryInterval: 0 }, reconnectPeriod: 0 });
      await client.endAsync();
    } catch {
      // the broker is gone; nothing is queued there any more
    }
  }
}

function kafkaAdmin() {
  return new Kafka({ clientId: 'bench-drain-admin', brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).admin();
}

/** kafkajs's ConfigResourceTypes.TOPIC; the CommonJS module does not hand the enum to an ES import. */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

/** Messages in a topic (the sum over partitions of high − low watermark) and its partitions. */
async function countMessages(topic: string): Promise<[number, number]> {
  const admin = kafkaAdmin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return [offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0), offsets.length];
  } finally {
    await admin.disconnect();
  }
}

async function topicConfig(topic: string, name: string): Promise<number | undefined> {
  const admin = kafkaAdmin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({ resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: [name] }], includeSynonyms: false });
    const value = described.resources[0]?.configEntries.find((entry) => entry.configName === name)?.configValue;
    return value === undefined ? undefined : Number(value);
  } finally {
    await admin.disconnect();
  }
}

async function createTopic(topic: string, maxMessageBytes: number): Promise<void> {
  const admin = kafkaAdmin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: String(maxMessageBytes) }] }],
    });
  } finally {
    await admin.disconnect();
  }
}

async function deleteTopics(topics: string[]): Promise<void> {
  const admin = kafkaAdmin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // a topic the cloud never created; nothing to free
  } finally {
    await admin.disconnect();
  }
}

const ms = ([mid, p95]: [number, number]): string => `${num(mid, 0)} / ${num(p95, 0)}`;
const share = (value: number | undefined): string => (value === undefined ? '–' : `${Math.round(value * 100)}%`);

async function runAndReport(fill: Fill, batch: number, workDir: string, raisedTopicLimit: boolean): Promise<DrainResult> {
  const label = `${num(fill.total)} readings, batches of ${num(batch)}${raisedTopicLimit ? ', topic max.message.bytes 16 MiB' : ''}`;
  process.stdout.write(`draining ${label} … `);
  try {
    const result = await drainOnce(fill, batch, workDir, raisedTopicLimit);
    const figures =
      `${num(result.drainSeconds, 1)} s, ${num(result.perSecond)} readings/s, edge RSS peak ${num(mib(result.edgeRssPeak), 0)} MiB ` +
      `(topic: ${result.topicPartitions} partitions, max.message.bytes ${num(result.topicMaxMessageBytes ?? Number.NaN)})`;
    console.log(result.ok ? figures : `FAILED: ${result.problems.join('; ')}`);
    return result;
  } catch (err) {
    console.log(`FAILED: ${(err as Error).message}`);
    return { batch, readings: fill.total, raisedTopicLimit, tooLarge: false, ok: false, problems: [(err as Error).message] } as DrainResult;
  } finally {
    await sleep(1_000); // let Kafka finish deleting the run's topics
  }
}

const describeRun = (r: DrainResult): string => `${num(r.batch)}${r.raisedTopicLimit ? ' (topic 16 MiB)' : ''}`;

async function main(): Promise<number> {
  console.log(`machine: ${machineLine()}`);
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  console.log(`edge: node ${EDGE_NODE_FLAGS.join(' ')} dist/edge/main.js (the build)`);
  const workDir = mkdtempSync(join(tmpdir(), 'echolake-bench-drain-'));
  const fillAndSay = (total: number): Fill => {
    process.stdout.write(`filling the outbox with ${num(total)} readings `);
    const fill = fillBacklog(mkdtempSync(join(workDir, 'template-')), total);
    console.log(
      ` ${num(fill.seconds, 1)} s (${num(total / fill.seconds)} readings/s); database ${num(mib(fill.fileBytes))} MiB, ` +
        `reading JSON ≈${Math.round(fill.jsonBytesPerReading)} bytes`,
    );
    return fill;
  };
  try {
    // 1. A shorter backlog. First one drain not counted, to warm up Kafka's JVM (the harness starts a
    // fresh broker; cold, it took 3× the CPU and made whichever batch size ran first look slow); then
    // each step of a batch timed on its own; then the batch sizes compared, in alternating order per round.
    const stepsNeed = 6 * BATCHES.reduce((sum, b) => sum + b, 0);
    const small = fillAndSay(Math.max(COMPARE_READINGS, stepsNeed + 1));
    process.stdout.write('warm-up, not counted: ');
    await runAndReport(small, BATCHES[0] ?? 2000, workDir, false);
    process.stdout.write('timing each step of one batch on its own … ');
    const stepsPath = join(dirname(small.path), 'steps.db');
    copyFileSync(small.path, stepsPath);
    const steps: BatchBreakdown[] = await breakdown({ storePath: stepsPath, siteId, batches: BATCHES, mqttUrl, kafkaBrokers: kafkaBrokers.split(','), iterations: 5 });
    rmSync(stepsPath, { force: true });
    console.log('done');
    const compared: DrainResult[] = [];
    if (COMPARE_READINGS > 0 && BATCHES.length > 1) {
      for (let round = 0; round < COMPARE_ROUNDS; round++) {
        for (const batch of round % 2 === 0 ? BATCHES : [...BATCHES].reverse()) {
          const result = await runAndReport(small, batch, workDir, false);
          compared.push(result);
          if (result.tooLarge) compared.push(await runAndReport(small, batch, workDir, true));
        }
      }
    }
    rmSync(small.path, { force: true });

    // The smallest batch within 10 % of the fastest (median over the rounds): a bigger batch costs
    // the edge memory (a few copies of its JSON at a time) and gains little once the cloud's
    // per-reading work dominates.
    const byBatch = new Map<string, { batch: number; raisedTopicLimit: boolean; rates: number[] }>();
    for (const r of compared.filter((run) => run.ok)) {
      const key = `${r.batch}/${r.raisedTopicLimit}`;
      const entry = byBatch.get(key) ?? { batch: r.batch, raisedTopicLimit: r.raisedTopicLimit, rates: [] };
      entry.rates.push(r.perSecond);
      byBatch.set(key, entry);
    }
    const candidates = [...byBatch.values()].map((c) => ({ ...c, rate: median(c.rates) }));
    const fastestRate = Math.max(...candidates.map((c) => c.rate));
    const chosen = candidates.filter((c) => c.rate >= fastestRate * (1 - NEAR_FASTEST)).sort((a, b) => a.batch - b.batch)[0] ?? {
      batch: BATCHES[0] ?? 2000,
      raisedTopicLimit: false,
    };
    if (candidates.length > 0) {
      const medians = candidates.map((c) => `${num(c.batch)}${c.raisedTopicLimit ? ' (topic 16 MiB)' : ''}: ${num(c.rate)}`).join(', ');
      console.log(`median readings/s per batch size: ${medians}; the full backlog drains with batches of ${num(chosen.batch)}, the smallest within ${NEAR_FASTEST * 100} % of the fastest`);
    }

    // 2. The whole backlog.
    const fill = fillAndSay(TOTAL);
    const attempts = [await runAndReport(fill, chosen.batch, workDir, chosen.raisedTopicLimit)];
    if (attempts[0]?.tooLarge === true) attempts.push(await runAndReport(fill, chosen.batch, workDir, true));
    const full = attempts[attempts.length - 1] as DrainResult;

    // 3. What the status page and the minute housekeeping cost at this size.
    const statsCost = timeStats(fill.path, siteId);
    const maintenance = timeMaintenance(fill.path, siteId);
    console.log('');

    const runs = [...compared, ...attempts];
    const measured = runs.filter((r) => r.drainSeconds !== undefined && Number.isFinite(r.drainSeconds) && !r.tooLarge);
    console.log(
      table(
        ['readings', 'batch', 'drain s', 'readings/s', 'startup s', 'batches', 'resends', 'in Kafka', 'edge RSS peak / median MiB', 'edge CPU', 'cloud CPU', 'mosquitto', 'kafka', 'machine busy'],
        measured.map((r) => [
          num(r.readings),
          describeRun(r),
          num(r.drainSeconds, 1),
          num(r.perSecond),
          num(r.startupSeconds, 1),
          num(r.batches, 0),
          num(r.resends, 0),
          num(r.kafkaMessages, 0),
          `${num(mib(r.edgeRssPeak), 0)} / ${num(mib(r.edgeRssMedian), 0)}`,
          share(r.cpuShare.edge),
          share(r.cpuShare.cloud),
          share(r.cpuShare.mosquitto),
          share(r.cpuShare.kafka),
          share(r.machineBusyShare),
        ]),
      ),
    );
    for (const r of runs.filter((run) => !run.ok)) console.log(`FAILED ${num(r.readings)} readings, batch ${describeRun(r)}: ${r.problems.join('; ')}`);
    console.log("\nper batch, ms (median / p95), from the edge's and the cloud's log timestamps:");
    console.log(
      table(
        ['readings', 'batch', 'edge: ack → next send', 'send → in Kafka (cloud)', 'cloud → ack at edge', 'edge round trip'],
        measured.map((r) => [num(r.readings), describeRun(r), ms(r.edgePrepMs), ms(r.sendToKafkaDoneMs), ms(r.ackPathMs), ms(r.roundTripMs)]),
      ),
    );
    console.log('\neach step of one batch timed alone in this process, ms (median of 5; topics as the cloud makes them):');
    console.log(
      table(
        ['batch', 'payload MiB', 'store read', 'JSON build', 'MQTT QoS1 trip', 'parse+validate', 'Kafka write', 'mark+ack (FULL)', 'sum', '→ readings/s'],
        steps.map((s) => [
          num(s.batch),
          num(mib(s.payloadBytes), 1),
          num(s.storeReadMs, 1),
          num(s.jsonBuildMs, 1),
          num(s.mqttTripMs, 1),
          num(s.parseValidateMs, 1),
          num(s.kafkaWriteMs, 1),
          num(s.storeMarkAndAckMs, 1),
          num(s.totalMs, 1),
          num(s.impliedPerSecond),
        ]),
      ),
    );
    for (const s of steps.filter((step) => step.kafkaError !== undefined)) console.log(`Kafka refused batches of ${num(s.batch)}: ${s.kafkaError}`);
    console.log(`\nstatus page with ${num(statsCost.backlog)} unsent readings: store.stats() took ${num(statsCost.ms, 0)} ms`);

    console.log(
      `edge housekeeping once all ${num(TOTAL)} were acknowledged: ${num(maintenance.ms / 1000, 1)} s in ${num(maintenance.steps)} steps, ` +
        `the longest blocking the event loop ${num(maintenance.longestStepMs, 0)} ms, ` +
        `${num(maintenance.rowsBefore - maintenance.rowsAfter, 0)} readings past the 24 h history window deleted, ` +
        `live database ${num(mib(maintenance.liveBytesBefore))} → ${num(mib(maintenance.liveBytesAfter))} MiB`,
    );
    const housekeepingDuringDrain = measured.filter((r) => r.maintenanceRuns > 0);
    for (const r of housekeepingDuringDrain) {
      console.log(`  during the ${num(r.readings)}-reading drain (batch ${describeRun(r)}) housekeeping ran ${r.maintenanceRuns}× and pruned ${num(r.prunedDuringDrain)} readings`);
    }

    const rssPeak = Math.max(...measured.map((r) => r.edgeRssPeak));
    const rateMet = full.ok && full.perSecond >= GOAL_PER_SECOND;
    const rssMet = full.ok && full.edgeRssPeak < GOAL_RSS_BYTES;
    console.log(
      `\ngoal ${num(GOAL_PER_SECOND)} readings/s: ${rateMet ? 'MET' : 'NOT MET'} — ${num(TOTAL)} readings in ${num(full.drainSeconds, 1)} s, ` +
        `${num(full.perSecond)} readings/s with batches of ${describeRun(full)}`,
    );
    console.log(
      `goal edge RSS < 100 MiB: ${rssMet ? 'MET' : 'NOT MET'} — peak ${num(mib(full.edgeRssPeak), 0)} MiB, ` +
        `median ${num(mib(full.edgeRssMedian), 0)} MiB during the full drain (${num(mib(full.edgeRssAtConnect), 0)} MiB when the uplink connected); peak over all runs ${num(mib(rssPeak), 0)} MiB`,
    );
    console.log(
      JSON.stringify({
        bench: 'edge-drain',
        machine: machineLine(),
        edgeNodeFlags: EDGE_NODE_FLAGS,
        readings: TOTAL,
        readingJsonBytes: Math.round(fill.jsonBytesPerReading),
        databaseBytes: fill.fileBytes,
        fillReadingsPerSecond: TOTAL / fill.seconds,
        goals: {
          readingsPerSecond: { goal: GOAL_PER_SECOND, value: full.perSecond, batch: full.batch, raisedTopicLimit: full.raisedTopicLimit, met: rateMet },
          edgeRssBytes: { goal: GOAL_RSS_BYTES, peak: full.edgeRssPeak, median: full.edgeRssMedian, met: rssMet },
        },
        full,
        compared,
        steps,
        statusStatsMs: statsCost.ms,
        maintenance,
      }),
    );
    return runs.every((r) => r.ok) ? 0 : 1;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

runBenchmark('edge-drain', main);
