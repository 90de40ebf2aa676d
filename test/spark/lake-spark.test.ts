import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { DeltaTable } from '../../cloud/lake/delta/table.js';
import { appendExactlyOnce, txnNames, type PendingMessage } from '../../cloud/lake/operations/append.js';
import { checkpoint } from '../../cloud/lake/operations/checkpoint.js';
import { inlineEncoder } from '../../cloud/lake/parquet/encoder-pool.js';
import { LocalObjectStore } from '../../cloud/lake/storage/local-store.js';
import { READINGS_TABLE } from '../../cloud/lake/tables/readings.js';
import { silentLogger } from '../../shared/log.js';
import { installSpark, sparkPython, sparkSessionPreamble } from '../services/spark.js';
import { aircon } from '../support/observations.js';
import { python } from '../support/python.js';

// Spark 3.5 + Delta 3.2 (local[2]) against the lake's tables: it reads what we commit (through our
// checkpoint alone), runs OPTIMIZE, ADD COLUMNS and turns on the change data feed on our table,
// and our writer goes on; Spark and delta-rs then read every row right. Run by .ci/lake-spark.sh.
const run = promisify(execFile);
const rules = { names: txnNames('app', 'readings'), maxSeqJump: 1_000_000 };
const root = mkdtempSync(join(tmpdir(), 'echolake-lake-spark-'));
const open = () => DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
const messages = (from: number, count: number): PendingMessage[] =>
  Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    const ts = `2026-11-2${3 + (seq % 2)}T05:00:00.${String(seq % 1_000_000).padStart(6, '0')}Z`;
    return { reading: { v: 1, siteId: 's1', seq, ...aircon(seq % 3, { ts }) }, position: { partition: 0, offset: String(seq) } };
  });

async function spark<T>(body: string): Promise<T> {
  try {
    const { stdout } = await run(sparkPython(), ['-c', `${sparkSessionPreamble('echolake-lake-check')}\nimport json, sys\npath = sys.argv[1]\n${body}`, root], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 15 * 60_000,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T;
  } catch (err) {
    throw new Error(`spark failed: ${(err as Error).message}\n${(err as { stderr?: string }).stderr?.slice(-4000) ?? ''}`);
  }
}

before(async () => {
  await installSpark();
});

test('Spark reads our table through our checkpoint alone: rows, UTC microsecond timestamps, partitions', { timeout: 20 * 60_000 }, async () => {
  const table = await open();
  for (let commit = 0; commit < 10; commit += 1) await appendExactlyOnce(table, messages(1 + commit * 50, 50), rules, inlineEncoder);
  await checkpoint(table);
  for (let version = 0; version < 10; version += 1) rmSync(join(root, '_delta_log', `${String(version).padStart(20, '0')}.json`));
  await appendExactlyOnce(table, messages(501, 20), rules, inlineEncoder);
  const read = await spark<{ rows: number; distinct: number; ts: string; tsType: string; dates: string[]; version: number }>(`
df = spark.read.format("delta").load(path)
first = df.where("seq = 7").selectExpr("date_format(ts, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS t").collect()[0]["t"]
history = spark.sql("DESCRIBE HISTORY delta.\`%s\`" % path).collect()
print(json.dumps({"rows": df.count(), "distinct": df.select("siteId", "seq").distinct().count(), "ts": first,
  "tsType": dict(df.dtypes)["ts"], "dates": sorted(str(r["date"]) for r in df.select("date").distinct().collect()), "version": max(h["version"] for h in history)}))
`);
  assert.deepEqual(read, { rows: 520, distinct: 520, ts: '2026-11-24 05:00:00.000007', tsType: 'timestamp', dates: ['2026-11-23', '2026-11-24'], version: 11 });
});

test('after Spark OPTIMIZE, ADD COLUMNS and the change data feed on our table, our writer goes on and every reader agrees', { timeout: 20 * 60_000 }, async () => {
  await spark<null>(`
spark.sql("OPTIMIZE delta.\`%s\`" % path)
spark.sql("ALTER TABLE delta.\`%s\` ADD COLUMNS (analystNote STRING)" % path)
spark.sql("ALTER TABLE delta.\`%s\` SET TBLPROPERTIES (delta.enableChangeDataFeed = true)" % path)
print("null")
`);
  const table = await open();
  assert.ok(table.snapshot.files.size <= 4, `Spark compacted our files (${table.snapshot.files.size} left)`);
  for (let commit = 0; commit < 12; commit += 1) await appendExactlyOnce(table, messages(1000 + commit * 10, 10), rules, inlineEncoder);
  const fromSpark = await spark<{ rows: number; distinct: number; notes: number; protocol: number[] }>(`
df = spark.read.format("delta").load(path)
detail = spark.sql("DESCRIBE DETAIL delta.\`%s\`" % path).collect()[0]
print(json.dumps({"rows": df.count(), "distinct": df.select("siteId", "seq").distinct().count(), "notes": df.where("analystNote IS NOT NULL").count(),
  "protocol": [detail["minReaderVersion"], detail["minWriterVersion"]]}))
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
