import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { stringify } from 'yaml';
import type { Reading } from '../../shared/reading.js';
import { installSpark, SHARING_SPARK_PACKAGE, sparkPython, sparkSessionPreamble } from '../services/spark.js';
import { writeTestRegistry } from '../support/cloud-sites.js';
import { Deployable, type LogEvent } from '../support/deployable.js';
import { requiredEnv } from '../support/env.js';
import { aircon } from '../support/observations.js';

// Spark reads a share through Delta's delta-sharing Spark connector (Maven Central), as a batch and
// as a stream (which follows the table with startingVersion queries), from a cloud whose lake role
// wrote the table from real Kafka. Run by .ci/lake-spark.sh, outside `npm test`.
const run = randomUUID().slice(0, 8);
const exec = promisify(execFile);
const brokers = requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS');
const dir = mkdtempSync(join(tmpdir(), 'echolake-sharing-spark-'));
const topic = `readings-sharing-spark-${run}`;
const kafka = new Kafka({ clientId: `sharing-spark-${run}`, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
let producer: Producer;
let cloud: Deployable;
let profile: string;
let seq = 0;

before(async () => {
  await installSpark();
  const config = join(dir, 'cloud.yaml');
  writeFileSync(
    config,
    stringify({
      roles: { ingest: false, lake: true, alerts: false, sharing: true },
      sites: { file: await writeTestRegistry(dir, [`site-${run}`]) },
      kafka: { brokers: brokers.split(','), topics: { readings: topic, deadLetter: `dlq-${topic}` } },
      api: { port: 0 },
      lake: { root: join(dir, 'lake'), groupId: `lake-${topic}`, maxAgeMs: 200 },
      sharing: { recipientsFile: join(dir, 'recipients.yaml'), shares: [{ name: 'plant', schemas: [{ name: 'lake', tables: [{ name: 'readings', table: 'readings' }] }] }] },
    }),
  );
  cloud = new Deployable('cloud', 'cloud/main.ts', ['--config', config], {});
  await cloud.waitFor((e) => e.msg === 'lake writer started', 60_000, 'the lake writer');
  const api = String((await cloud.waitFor((e) => e.msg === 'cloud API listening', 60_000, 'the API')).url);
  producer = kafka.producer({ idempotent: true });
  await producer.connect();
  profile = join(dir, 'analyst.share');
  await exec(process.execPath, ['--import', 'tsx', 'cloud/main.ts', 'share-profile', 'analyst', '--share', 'plant', '--endpoint', `${api}/delta-sharing`, '--out', profile, '--config', config]);
});

after(async () => {
  await producer?.disconnect();
  assert.equal(await cloud?.stop(), 0);
});

const committedRows = (events: LogEvent[]) => events.filter((e) => e.msg === 'readings committed to delta').reduce((sum, e) => sum + Number(e.rows), 0);

async function produce(count: number): Promise<void> {
  const readings: Reading[] = Array.from({ length: count }, () => {
    seq += 1;
    return { v: 1, siteId: `site-${run}`, seq, ...aircon(seq % 3, { ts: new Date(Date.UTC(2026, 10, 23 + (seq % 2), 0, 0, seq)).toISOString() }) };
  });
  await producer.send({ topic, acks: -1, messages: readings.map((r) => ({ key: r.deviceId, value: JSON.stringify(r) })) });
  await cloud.waitFor(() => committedRows(cloud.events) >= seq, 60_000, `${seq} rows committed`);
}

async function spark<T>(body: string): Promise<T> {
  try {
    const script = `${sparkSessionPreamble('echolake-sharing-check', [SHARING_SPARK_PACKAGE])}\nimport json, sys\ntable = sys.argv[1] + "#plant.lake.readings"\nwork = sys.argv[2]\n${body}`;
    const { stdout } = await exec(sparkPython(), ['-c', script, profile, dir], { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T;
  } catch (err) {
    throw new Error(`spark failed: ${(err as Error).message}\n${(err as { stderr?: string }).stderr?.slice(-4000) ?? ''}\n${cloud.tail()}`);
  }
}

test('Spark reads the share as a batch and follows it as a stream through the delta-sharing connector', { timeout: 20 * 60_000 }, async () => {
  await produce(40);
  await produce(20);
  const read = await spark<{ rows: number; distinct: number; dates: string[]; room: number; streamed: number; streamDistinct: number }>(`
df = spark.read.format("deltaSharing").load(table)
room = df.where("seq = 4").collect()[0]["roomTemperature"]
stream = (spark.readStream.format("deltaSharing").option("startingVersion", 0).load(table)
  .writeStream.format("memory").queryName("followed").option("checkpointLocation", work + "/stream-checkpoint").start())
stream.processAllAvailable()
stream.stop()
followed = spark.table("followed")
print(json.dumps({"rows": df.count(), "distinct": df.select("siteId", "seq").distinct().count(),
  "dates": sorted(str(r["date"]) for r in df.select("date").distinct().collect()), "room": room,
  "streamed": followed.count(), "streamDistinct": followed.select("seq").distinct().count()}))
`);
  assert.deepEqual(read, { rows: 60, distinct: 60, dates: ['2026-11-23', '2026-11-24'], room: 27, streamed: 60, streamDistinct: 60 });
});
