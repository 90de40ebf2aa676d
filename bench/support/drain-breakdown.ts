// Where one batch's time goes on its way edge → MQTT → cloud → Kafka, each step timed on its own
// in this process with the project's own code: the store read, the uplink's JSON, a QoS 1 trip
// through the broker, the ingest's parse and validation, the Kafka write (idempotent, acks=all).
import { randomUUID } from 'node:crypto';
import { connectAsync } from 'mqtt';
import { KafkaReadingSink } from '../../cloud/ingest/kafka-readings-sink.js';
import { createKafka, createProducer, ensureTopics, type KafkaSettings } from '../../cloud/kafka/client.js';
import { ReadingStore } from '../../edge/buffer/reading-store.js';
import { Database } from '../../edge/buffer/sqlite.js';
import { silentLogger } from '../../shared/log.js';
import { parseReadingBatch } from '../../shared/reading-schema.js';
import { READING_SCHEMA_VERSION } from '../../shared/reading.js';
import { median } from './report.js';

export interface BatchBreakdown {
  batch: number;
  payloadBytes: number;
  /** Median ms per batch of each step. */
  storeReadMs: number;
  storeMarkAndAckMs: number;
  jsonBuildMs: number;
  mqttTripMs: number;
  parseValidateMs: number;
  kafkaWriteMs: number;
  /** Why Kafka refused this batch size, if it did (then kafkaWriteMs is NaN). */
  kafkaError: string | undefined;
  /** The sum: what one batch costs when nothing overlaps. */
  totalMs: number;
  /** readings/s the sum allows: batch / total. */
  impliedPerSecond: number;
}

export interface BreakdownOptions {
  storePath: string;
  siteId: string;
  batches: number[];
  mqttUrl: string;
  kafkaBrokers: string[];
  iterations: number;
}

const elapsedMs = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e6;

/** `count(*)` of the backlog as the status page asks it, with the whole backlog unsent. */
export function timeStats(storePath: string, siteId: string): { ms: number; backlog: number } {
  const store = ReadingStore.open({ path: storePath, siteId, durability: 'FULL', maxBytes: 2 ** 33, historyMs: 86_400_000 }, silentLogger());
  try {
    store.stats(); // warm the statements
    const started = process.hrtime.bigint();
    const stats = store.stats();
    return { ms: elapsedMs(started), backlog: stats.backlog };
  } finally {
    store.close();
  }
}

/** Housekeeping run step after step until it has nothing left: total time and the longest single block of the event loop. */
export interface MaintenanceRun {
  ms: number;
  longestStepMs: number;
  steps: number;
}

export function maintainToEnd(store: ReadingStore, now = Date.now()): MaintenanceRun {
  const run: MaintenanceRun = { ms: 0, longestStepMs: 0, steps: 0 };
  for (let more = true; more; ) {
    const started = process.hrtime.bigint();
    more = store.maintain(now).more;
    const ms = elapsedMs(started);
    run.ms += ms;
    run.longestStepMs = Math.max(run.longestStepMs, ms);
    run.steps += 1;
  }
  return run;
}

export interface MaintenanceCost extends MaintenanceRun {
  rowsBefore: number;
  rowsAfter: number;
  liveBytesBefore: number;
  liveBytesAfter: number;
}

/**
 * The edge's housekeeping once the whole backlog is acknowledged: acknowledged readings past the
 * history window go in bounded steps, each with incremental vacuum and a WAL checkpoint, on the
 * event loop. Leaves the database drained.
 */
export function timeMaintenance(storePath: string, siteId: string): MaintenanceCost {
  const store = ReadingStore.open({ path: storePath, siteId, durability: 'FULL', maxBytes: 2 ** 33, historyMs: 86_400_000 }, silentLogger());
  const count = (): number => {
    const db = new Database(storePath, { readonly: true });
    try {
      return db.prepare<[], { n: number }>('SELECT count(*) AS n FROM readings').get()?.n ?? 0;
    } finally {
      db.close();
    }
  };
  try {
    store.acknowledge(store.stats().lastSeq);
    const rowsBefore = count();
    const liveBytesBefore = store.stats().databaseBytes;
    const run = maintainToEnd(store);
    return { ...run, rowsBefore, rowsAfter: count(), liveBytesBefore, liveBytesAfter: store.stats().databaseBytes };
  } finally {
    store.close();
  }
}

export async function breakdown(options: BreakdownOptions): Promise<BatchBreakdown[]> {
  const run = randomUUID().slice(0, 8);
  const topic = `echolake/bench/${run}/breakdown`;
  const settings: KafkaSettings = {
    brokers: options.kafkaBrokers,
    clientId: `bench-breakdown-${run}`,
    partitions: 3,
    replicationFactor: 1,
    topics: { readings: `bench-breakdown-${run}`, deadLetter: `bench-breakdown-dlq-${run}` },
  };
  const kafka = createKafka(settings, silentLogger());
  // Topics as the cloud makes them, Kafka's defaults included.
  await ensureTopics(kafka, settings);
  const admin = kafka.admin();
  const sink = new KafkaReadingSink(createProducer({ ...settings, producer: { client: 'platformatic', compression: 'none' } }, kafka), settings.topics, 512 * 1024);
  await sink.connect();
  const publisher = await connectAsync(options.mqttUrl, { clientId: `bench-pub-${run}`, protocolVersion: 5 });
  const subscriber = await connectAsync(options.mqttUrl, { clientId: `bench-sub-${run}`, protocolVersion: 5 });
  const store = ReadingStore.open(
    { path: options.storePath, siteId: options.siteId, durability: 'FULL', maxBytes: 2 ** 33, historyMs: 86_400_000 },
    silentLogger(),
  );
  const results: BatchBreakdown[] = [];
  try {
    let received: (() => void) | undefined;
    subscriber.on('message', () => received?.());
    await subscriber.subscribeAsync(topic, { qos: 1 });
    for (const batch of options.batches) {
      const t = { read: [] as number[], ack: [] as number[], json: [] as number[], mqtt: [] as number[], parse: [] as number[], kafka: [] as number[] };
      let payloadBytes = 0;
      let kafkaError: string | undefined;
      // One round more than asked, the first thrown away: it pays for JIT and connection warm-up.
      for (let i = 0; i <= options.iterations; i++) {
        let started = process.hrtime.bigint();
        const pending = store.oldestUnsent(batch, 16 * 2 ** 20);
        t.read.push(elapsedMs(started));
        if (pending === undefined) throw new Error('the breakdown store holds no unsent readings');
        started = process.hrtime.bigint();
        const batchId = `${pending.firstSeq}-${pending.lastSeq}`;
        const payload = `{"v":${READING_SCHEMA_VERSION},"siteId":${JSON.stringify(options.siteId)},"batchId":"${batchId}","readings":[${pending.payloads.join(',')}]}`;
        t.json.push(elapsedMs(started));
        payloadBytes = Buffer.byteLength(payload);

        const arrived = new Promise<void>((resolve) => (received = resolve));
        started = process.hrtime.bigint();
        publisher.publish(topic, payload, { qos: 1 });
        await arrived;
        t.mqtt.push(elapsedMs(started));

        const buffer = Buffer.from(payload);
        started = process.hrtime.bigint();
        const parsed = parseReadingBatch(buffer);
        t.parse.push(elapsedMs(started));
        if (!parsed.ok) throw new Error(`the batch does not parse: ${parsed.error}`);

        started = process.hrtime.bigint();
        try {
          await sink.writeBatch(parsed.value);
        } catch (err) {
          kafkaError = (err as Error).message;
          break;
        }
        t.kafka.push(elapsedMs(started));

        // The uplink marks the batch in flight before sending and moves the mark on its ack: two commits.
        started = process.hrtime.bigint();
        store.markInFlight(pending);
        store.acknowledge(pending.lastSeq);
        t.ack.push(elapsedMs(started));
      }
      for (const series of Object.values(t)) series.shift();
      const row = {
        batch,
        payloadBytes,
        storeReadMs: median(t.read),
        storeMarkAndAckMs: median(t.ack),
        jsonBuildMs: median(t.json),
        mqttTripMs: median(t.mqtt),
        parseValidateMs: median(t.parse),
        kafkaWriteMs: median(t.kafka),
        kafkaError,
      };
      const totalMs = row.storeReadMs + row.storeMarkAndAckMs + row.jsonBuildMs + row.mqttTripMs + row.parseValidateMs + row.kafkaWriteMs;
      results.push({ ...row, totalMs, impliedPerSecond: (batch * 1000) / totalMs });
    }
  } finally {
    store.close();
    await Promise.allSettled([publisher.endAsync(), subscriber.endAsync(), sink.disconnect()]);
    await admin.connect();
    await admin.deleteTopics({ topics: [settings.topics.readings, settings.topics.deadLetter] }).catch(() => undefined);
    await admin.disconnect();
  }
  return results;
}
