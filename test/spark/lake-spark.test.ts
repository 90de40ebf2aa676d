import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { LogStore } from '../../cloud/lake/delta/log-store.js';
import { Snapshot } from '../../cloud/lake/delta/snapshot.js';
import { DeltaTable } from '../../cloud/lake/delta/table.js';
import { appendExactlyOnce, txnNames, type PendingMessage } from '../../cloud/lake/operations/append.js';
import { checkpoint } from '../../cloud/lake/operations/checkpoint.js';
import { inlineEncoder } from '../../cloud/lake/parquet/encoder-pool.js';
import { LocalObjectStore } from '../../cloud/lake/storage/local-store.js';
import { READINGS_TABLE } from '../../cloud/lake/tables/readings.js';
import { silentLogger } from '../../shared/log.js';
import { installSpark } from '../services/spark.js';
import { aircon } from '../support/observations.js';
import { python } from '../support/python.js';
import { SparkSession } from '../support/spark-session.js';

// Spark 3.5 + Delta 3.2 (local[2], one session for the file) against the lake's tables: it reads
// what we commit (through our checkpoint alone), runs OPTIMIZE, ADD COLUMNS, the change data feed
// and a checkpoint of its own on our table, and our writer goes on; a table Spark made (partitions,
// appends, an overwrite, Spark's checkpoint, its early log deleted) replays in our log reader to
// Spark's own file list and takes our appends. Spark and delta-rs then read every row right.
// Run by .ci/lake-spark.sh.
const rules = { names: txnNames('app', 'readings'), maxSeqJump: 1_000_000 };
const root = mkdtempSync(join(tmpdir(), 'echolake-lake-spark-'));
const sparkMade = mkdtempSync(join(tmpdir(), 'echolake-spark-made-'));
const open = (path = root) => DeltaTable.open(new LocalObjectStore(path), READINGS_TABLE, silentLogger(), 'test');
const messages = (from: number, count: number): PendingMessage[] =>
  Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    const ts = `2026-11-2${3 + (seq % 2)}T05:00:00.${String(seq % 1_000_000).padStart(6, '0')}Z`;
    return { reading: { v: 1, siteId: 's1', seq, ...aircon(seq % 3, { ts }) }, position: { partition: 0, offset: String(seq) } };
  });
let spark: SparkSession;

/** Deletes the commit files (and Spark's .crc files) below a version, as a log cleanup does. */
function deleteLogBelow(path: string, version: number): number {
  const doomed = readdirSync(join(path, '_delta_log')).filter((name) => {
    const match = /^(\d{20})\.(?:json|crc)$/.exec(name);
    return match !== null && Number(match[1]) < version;
  });
  for (const name of doomed) rmSync(join(path, '_delta_log', name));
  return doomed.length;
}

interface SparkFiles {
  version: number;
  /** [path as in the log, decoded; size; partition values] per live file, from Spark's DeltaLog. */
  files: Array<[string, number, Record<string, string | null>]>;
  /** Absolute URIs of the files a read scans (DataFrame.inputFiles()). */
  inputFiles: string[];
}

/** Spark's view of a table's live files, compared with ours. */
const SPARK_FILES = `
from urllib.parse import unquote
from pyspark.sql import DataFrame
snapshot = spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path).update(False, spark._jvm.scala.Option.empty())
adds = DataFrame(snapshot.allFiles().toDF(), spark).select("path", "size", "partitionValues").collect()
result = {"version": snapshot.version(), "files": sorted([unquote(a["path"]), a["size"], dict(a["partitionValues"])] for a in adds),
  "inputFiles": sorted(spark.read.format("delta").load(path).inputFiles())}
`;

function assertSameFiles(snapshot: Snapshot, path: string, fromSpark: SparkFiles): void {
  assert.equal(snapshot.version, fromSpark.version);
  const ours: SparkFiles['files'] = [...snapshot.files.values()].map((add) => [decodeURIComponent(add.path), add.size, add.partitionValues]);
  ours.sort(([a], [b]) => (a < b ? -1 : 1));
  assert.deepEqual(ours, fromSpark.files);
  assert.deepEqual(
    fromSpark.inputFiles.map((uri) => relative(path, fileURLToPath(uri))).sort(),
    ours.map(([p]) => p),
  );
}

before(async () => {
  await installSpark();
  spark = SparkSession.start('echolake-lake-check');
});

after(async () => {
  await spark?.close();
});

test('Spark reads our table through our checkpoint alone: rows, UTC microsecond timestamps, partitions', { timeout: 20 * 60_000 }, async () => {
  const table = await open();
  for (let commit = 0; commit < 10; commit += 1) await appendExactlyOnce(table, messages(1 + commit * 50, 50), rules, inlineEncoder);
  await checkpoint(table);
  assert.equal(deleteLogBelow(root, 10), 10);
  await appendExactlyOnce(table, messages(501, 20), rules, inlineEncoder);
  const read = await spark.run<{ rows: number; distinct: number; ts: string; tsType: string; dates: string[]; version: number }>(root, `
df = spark.read.format("delta").load(path)
first = df.where("seq = 7").selectExpr("date_format(ts, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS t").collect()[0]["t"]
history = spark.sql("DESCRIBE HISTORY delta.\`%s\`" % path).collect()
result = {"rows": df.count(), "distinct": df.select("siteId", "seq").distinct().count(), "ts": first,
  "tsType": dict(df.dtypes)["ts"], "dates": sorted(str(r["date"]) for r in df.select("date").distinct().collect()), "version": max(h["version"] for h in history)}
`);
  assert.deepEqual(read, { rows: 520, distinct: 520, ts: '2026-11-24 05:00:00.000007', tsType: 'timestamp', dates: ['2026-11-23', '2026-11-24'], version: 11 });
});

test('after Spark OPTIMIZE, ADD COLUMNS and the change data feed on our table, our writer goes on and every reader agrees', { timeout: 20 * 60_000 }, async () => {
  await spark.run<null>(root, `
spark.sql("OPTIMIZE delta.\`%s\`" % path)
spark.sql("ALTER TABLE delta.\`%s\` ADD COLUMNS (analystNote STRING)" % path)
spark.sql("ALTER TABLE delta.\`%s\` SET TBLPROPERTIES (delta.enableChangeDataFeed = true)" % path)
`);
  const table = await open();
  assert.ok(table.snapshot.files.size <= 4, `Spark compacted our files (${table.snapshot.files.size} left)`);
  for (let commit = 0; commit < 12; commit += 1) await appendExactlyOnce(table, messages(1000 + commit * 10, 10), rules, inlineEncoder);
  const fromSpark = await spark.run<{ rows: number; distinct: number; notes: number; protocol: number[] }>(root, `
df = spark.read.format("delta").load(path)
detail = spark.sql("DESCRIBE DETAIL delta.\`%s\`" % path).collect()[0]
result = {"rows": df.count(), "distinct": df.select("siteId", "seq").distinct().count(), "notes": df.where("analystNote IS NOT NULL").count(),
  "protocol": [detail["minReaderVersion"], detail["minWriterVersion"]]}
`);
  assert.deepEqual(fromSpark, { rows: 640, distinct: 640, notes: 0, protocol: [1, 4] });
  const fromDeltaRs = await python<{ rows: number }>(
    `
import json, sys
from deltalake import DeltaTable
print(json.dumps({"rows": DeltaTable(sys.argv[1]).to_pyarrow_table(columns=["seq"]).num_rows}))
`,
    root,
  );
  assert.equal(fromDeltaRs.rows, 640);
});

test('a checkpoint Spark writes on our table (its early log gone) is where our reader starts; our writer goes on and Spark and delta-rs read it', { timeout: 20 * 60_000 }, async () => {
  const sparkCheckpoint = await spark.run<number>(root, `
log = spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
log.checkpoint()
result = log.readLastCheckpointFile().get().version()
`);
  deleteLogBelow(root, sparkCheckpoint);
  const table = await open();
  assert.equal(table.snapshot.checkpointVersion, sparkCheckpoint, "our reader started from Spark's checkpoint");
  assertSameFiles(table.snapshot, root, await spark.run<SparkFiles>(root, SPARK_FILES));
  for (let commit = 0; commit < 3; commit += 1) await appendExactlyOnce(table, messages(2000 + commit * 10, 10), rules, inlineEncoder);
  await checkpoint(table);
  const fromSpark = await spark.run<{ rows: number; distinct: number; version: number }>(root, `
df = spark.read.format("delta").load(path)
result = {"rows": df.count(), "distinct": df.select("siteId", "seq").distinct().count(),
  "version": spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path).readLastCheckpointFile().get().version()}
`);
  assert.deepEqual(fromSpark, { rows: 670, distinct: 670, version: table.snapshot.version });
  const fromDeltaRs = await python<{ rows: number; version: number }>(
    `
import json, sys
from deltalake import DeltaTable
table = DeltaTable(sys.argv[1])
print(json.dumps({"rows": table.to_pyarrow_table(columns=["seq"]).num_rows, "version": table.version()}))
`,
    root,
  );
  assert.deepEqual(fromDeltaRs, { rows: 670, version: table.snapshot.version });
});

/** A batch of Spark rows (its own site) on both dates, or on 2026-11-23 only, with microsecond timestamps. */
const SPARK_ROWS = `
from pyspark.sql import functions as F
def rows(first, count, both_days=True):
    day = "(id % 2)" if both_days else "0"
    return (spark.range(first, first + count)
        .select(F.lit("spark-site").alias("siteId"), F.col("id").alias("seq"),
                F.expr("timestamp_micros(unix_micros(timestamp'2026-11-23 05:00:00Z') + %s * 86400000000 + id)" % day).alias("ts"),
                (F.col("id") / 4).cast("double").alias("roomTemperature"))
        .withColumn("date", F.to_date("ts")))
def append(df, **options):
    df.write.format("delta").partitionBy("date").mode("append").options(**options).save(path)
`;

test('a table Spark made (appends, an overwrite, its checkpoint, its early log deleted) replays as Spark lists it; our writer appends and Spark reads both', { timeout: 20 * 60_000 }, async () => {
  const made = await spark.run<{ version: number; checkpoint: number; rows: number }>(sparkMade, `${SPARK_ROWS}
append(rows(1, 20))
for i in range(8):
    append(rows(21 + i * 10, 10))
rows(101, 5, both_days=False).write.format("delta").mode("overwrite").option("replaceWhere", "date = '2026-11-23'").save(path)
for i in range(3):
    append(rows(106 + i * 10, 10))
log = spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
result = {"version": log.update(False, spark._jvm.scala.Option.empty()).version(), "checkpoint": log.readLastCheckpointFile().get().version(),
  "rows": spark.read.format("delta").load(path).count()}
`);
  // 100 rows, the 2026-11-23 half replaced by 5, then 30 more; Spark checkpoints every 10 versions.
  assert.deepEqual(made, { version: 12, checkpoint: 10, rows: 85 });
  assert.equal(deleteLogBelow(sparkMade, 10) >= 10, true);

  const snapshot = await Snapshot.load(new LogStore(new LocalObjectStore(sparkMade)));
  assert.ok(snapshot, 'a table');
  assert.equal(snapshot.checkpointVersion, 10, "our reader started from Spark's checkpoint");
  assertSameFiles(snapshot, sparkMade, await spark.run<SparkFiles>(sparkMade, SPARK_FILES));

  const table = await open(sparkMade);
  for (let commit = 0; commit < 2; commit += 1) await appendExactlyOnce(table, messages(1 + commit * 20, 20), rules, inlineEncoder);
  const read = await spark.run<{ rows: number; ours: number; sparks: number; distinct: number; ts: string; temperature: number; devices: number }>(sparkMade, `
df = spark.read.format("delta").load(path)
result = {"rows": df.count(), "ours": df.where("siteId = 's1'").count(), "sparks": df.where("siteId = 'spark-site'").count(),
  "distinct": df.select("siteId", "seq").distinct().count(),
  "ts": df.where("siteId = 's1' AND seq = 7").selectExpr("date_format(ts, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS t").collect()[0]["t"],
  "temperature": df.where("siteId = 'spark-site' AND seq = 130").collect()[0]["roomTemperature"],
  "devices": df.where("deviceId IS NOT NULL").count()}
`);
  assert.deepEqual(read, { rows: 125, ours: 40, sparks: 85, distinct: 125, ts: '2026-11-24 05:00:00.000007', temperature: 32.5, devices: 40 });
});
