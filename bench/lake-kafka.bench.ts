// `npm run bench lake-kafka`: readings from Kafka to committed Delta, one process on this machine,
// and in the same run, on the same topic, the two references: a plain Python consumer writing with
// delta-rs's write_deltalake, and Spark Structured Streaming (Kafka source → Delta sink, availableNow).
// Needs the Spark venv (test/services/spark.ts; built on first use, ~350 MB).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { LakeWriter } from '../cloud/lake/lake-writer.js';
import { LogStore } from '../cloud/lake/delta/log-store.js';
import { Snapshot } from '../cloud/lake/delta/snapshot.js';
import { LocalObjectStore } from '../cloud/lake/storage/local-store.js';
import { silentLogger } from '../shared/log.js';
import { installSpark, sparkPython, sparkSessionPreamble } from '../test/services/spark.js';
import { airconObservation } from './support/aircon-readings.js';
import { machineLine } from './support/proc.js';
import { mib, num, runBenchmark, table } from './support/report.js';

const ROWS = Number(process.env.ECHOLAKE_BENCH_ROWS ?? 300_000);
const PARTITIONS = 2;
const run = promisify(execFile);
const id = Math.random().toString(16).slice(2, 10);
const topic = `bench-lake-${id}`;

function need(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set: run through \`npm run bench lake-kafka\` (it starts the services)`);
  return value;
}

async function produce(kafka: Kafka): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const fleet = { devices: 500, spacingMs: 60, endAt: Date.UTC(2026, 10, 23, 12), total: ROWS };
  let bytes = 0;
  for (let from = 0; from < ROWS; from += 5000) {
    const messages = Array.from({ length: Math.min(5000, ROWS - from) }, (_, i) => {
      const index = from + i;
      const observation = airconObservation(index, fleet);
      const value = JSON.stringify({ v: 1, siteId: `site-${index % 5}`, seq: 5_000_000_000 + Math.floor(index / 5), ...observation });
      bytes += value.length;
      return { key: observation.deviceId, value };
    });
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
  return bytes;
}

interface Outcome {
  name: string;
  seconds: number;
  rows: number;
  files: number;
  bytes: number;
  commits: number;
  note: string;
}

function tableFiles(path: string): { files: number; bytes: number; commits: number } {
  const parquet = readdirSync(path, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.parquet') && !name.includes('_delta_log'));
  const commits = readdirSync(join(path, '_delta_log')).filter((name) => name.endsWith('.json')).length;
  return { files: parquet.length, bytes: parquet.reduce((sum, name) => sum + statSync(join(path, name)).size, 0), commits };
}

async function ours(kafka: Kafka, root: string): Promise<Outcome> {
  const stores = { readings: new LocalObjectStore(join(root, 'readings')), deadLetters: new LocalObjectStore(join(root, 'dead_letters')) };
  const writer = new LakeWriter(
    kafka,
    stores,
    { topic, groupId: `bench-${id}`, appId: 'bench', maxRecords: 250_000, maxBytes: 128 * 2 ** 20, maxAgeMs: 2000, checkpointInterval: 10, maxSeqJump: 100_000_000, onFatal: (err) => { throw err; } },
    silentLogger(),
  );
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const started = performance.now();
  await writer.start();
  const log = new LogStore(stores.readings);
  for (;;) {
    if (rowsIn(await Snapshot.load(log)) >= ROWS) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await writer.stop();
  const files = tableFiles(join(root, 'readings'));
  return { name: 'echolake lake writer (Node, encoder workers)', seconds, rows: ROWS, ...files, note: `peak RSS ${num(mib(peakRss), 0)} MiB` };
}

/** Rows committed so far, by the add actions' stats. */
function rowsIn(snapshot: Snapshot | undefined): number {
  let rows = 0;
  for (const add of snapshot?.files.values() ?? []) rows += (JSON.parse(add.stats ?? '{}') as { numRecords?: number }).numRecords ?? 0;
  return rows;
}

async function pythonConsumer(root: string): Promise<Outcome> {
  const path = join(root, 'python');
  const script = `
import json, sys, time
from kafka import KafkaConsumer
import pyarrow as pa
from deltalake import write_deltalake
brokers, topic, path, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
started = time.time()
consumer = KafkaConsumer(topic, bootstrap_servers=brokers, group_id="py-" + topic, auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=5000)
seen, pending = 0, []
def flush():
    global pending
    if not pending: return
    rows = []
    for r in pending:
        p = r["properties"]
        rows.append({"siteId": r["siteId"], "seq": r["seq"], "deviceId": r["deviceId"], "ts": r["ts"], "kind": r["kind"],
          "roomTemperature": p.get("roomTemperature"), "humidity": p.get("humidity"), "properties": json.dumps(p), "raw": json.dumps(r["raw"]), "date": r["ts"][:10]})
    t = pa.Table.from_pylist(rows)
    t = t.set_column(t.schema.get_field_index("ts"), "ts", pa.compute.cast(pa.compute.strptime(t.column("ts"), format="%Y-%m-%dT%H:%M:%S.%fZ", unit="us"), pa.timestamp("us", tz="UTC")))
    write_deltalake(path, t, mode="append", partition_by=["date"])
    pending = []
while seen < total:
    for records in consumer.poll(timeout_ms=1000).values():
        for m in records:
            pending.append(json.loads(m.value)); seen += 1
    if len(pending) >= 50000: flush()
flush()
print(json.dumps({"seconds": time.time() - started}))
`;
  const env = { ...process.env, PYTHONPATH: join(sparkPython(), '..', '..', 'lib', 'python3.11', 'site-packages') };
  const { stdout } = await run(need('ECHOLAKE_TEST_PYTHON'), ['-c', script, need('ECHOLAKE_TEST_KAFKA_BROKERS'), topic, path, String(ROWS)], { env, maxBuffer: 64 * 2 ** 20, timeout: 60 * 60_000 });
  const { seconds } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { seconds: number };
  return { name: 'Python kafka-python + delta-rs write_deltalake (50k rows a commit)', seconds, rows: ROWS, ...tableFiles(path), note: 'subset of the columns' };
}

async function sparkStreaming(root: string): Promise<Outcome> {
  const path = join(root, 'spark');
  const script = `${sparkSessionPreamble('echolake-bench-lake')}
import json, sys, time
from pyspark.sql.functions import from_json, col, to_date, get_json_object
brokers, topic, path, checkpoint = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
started = time.time()
schema = "v INT, siteId STRING, seq LONG, deviceId STRING, eoj STRING, address STRING, ts TIMESTAMP, kind STRING, properties STRING, raw STRING"
source = (spark.readStream.format("kafka").option("kafka.bootstrap.servers", brokers).option("subscribe", topic)
  .option("startingOffsets", "earliest").load())
parsed = source.select(from_json(col("value").cast("string"), schema).alias("r"), col("partition"), col("offset")).select("r.*", "partition", "offset")
rows = parsed.select("siteId", "seq", "deviceId", "eoj", "address", "ts", "kind",
  get_json_object("properties", "$.roomTemperature").cast("double").alias("roomTemperature"),
  get_json_object("properties", "$.humidity").cast("double").alias("humidity"), "properties", "raw",
  col("partition").alias("kafkaPartition"), col("offset").alias("kafkaOffset"), to_date("ts").alias("date"))
query = (rows.writeStream.format("delta").option("checkpointLocation", checkpoint).partitionBy("date")
  .trigger(availableNow=True).start(path))
query.awaitTermination()
print(json.dumps({"seconds": time.time() - started}))
`;
  const { stdout } = await run(sparkPython(), ['-c', script, need('ECHOLAKE_TEST_KAFKA_BROKERS'), topic, path, join(root, 'spark-checkpoint')], { maxBuffer: 64 * 2 ** 20, timeout: 60 * 60_000 });
  const { seconds } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { seconds: number };
  return { name: 'Spark 3.5 Structured Streaming, Delta 3.2 sink, availableNow (local[2])', seconds, rows: ROWS, ...tableFiles(path), note: 'JVM start not counted' };
}

async function main(): Promise<number> {
  console.log(machineLine());
  await installSpark();
  const kafka = new Kafka({ clientId: `bench-${id}`, brokers: need('ECHOLAKE_TEST_KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
  const bytes = await produce(kafka);
  console.log(`topic ${topic}: ${ROWS.toLocaleString('en')} readings, ${num(mib(bytes), 0)} MiB of JSON, ${PARTITIONS} partitions`);
  const root = mkdtempSync(join(tmpdir(), 'echolake-bench-lake-'));
  const outcomes = [await ours(kafka, root), await pythonConsumer(root), await sparkStreaming(root)];
  const base = outcomes[0]?.seconds ?? 1;
  console.log(
    `\n${table(
      ['writer', 'rows/s', 'echolake ×', 'files', 'MiB per file', 'commits', 'commits/min', 'note'],
      outcomes.map((o) => [
        o.name,
        num(o.rows / o.seconds, 0),
        num(o.seconds / base, 2),
        String(o.files),
        num(mib(o.bytes) / Math.max(1, o.files), 1),
        String(o.commits),
        num((o.commits / o.seconds) * 60, 1),
        o.note,
      ]),
    )}`,
  );
  console.log('\n"echolake ×": how many times faster echolake was than that writer on the same topic.');
  return 0;
}

runBenchmark('lake-kafka', main);
