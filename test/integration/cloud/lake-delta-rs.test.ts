import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LogStore } from '../../../cloud/lake/delta/log-store.js';
import { Snapshot } from '../../../cloud/lake/delta/snapshot.js';
import { DeltaTable } from '../../../cloud/lake/delta/table.js';
import { appendExactlyOnce, txnNames, type PendingMessage } from '../../../cloud/lake/operations/append.js';
import { checkpoint } from '../../../cloud/lake/operations/checkpoint.js';
import { inlineEncoder } from '../../../cloud/lake/parquet/encoder-pool.js';
import { LocalObjectStore } from '../../../cloud/lake/storage/local-store.js';
import { READINGS_TABLE, type LakeReading } from '../../../cloud/lake/tables/readings.js';
import type { Reading } from '../../../shared/reading.js';
import { silentLogger } from '../../../shared/log.js';
import { aircon } from '../../support/observations.js';
import { python } from '../../support/python.js';

// The log reader and writer against delta-rs (the `deltalake` package), an independent implementation:
// tables delta-rs made (partitions, appends, overwrite, checkpoint, log cleanup), and ours read back by it.
const rules = { names: txnNames('app', 'readings'), maxSeqJump: 1_000_000 };
const freshRoot = () => mkdtempSync(join(tmpdir(), 'echolake-lake-rs-'));
const reading = (seq: number, extra: Partial<Reading> = {}): LakeReading => ({ v: 1, siteId: 's1', seq, ...aircon(seq % 3), ...extra });
const messages = (from: number, count: number, partition = 0): PendingMessage[] =>
  Array.from({ length: count }, (_, i) => ({ reading: reading(from + i), position: { partition, offset: String(from + i) } }));

test('a table delta-rs wrote (partitions, appends, overwrite, checkpoint, cleaned-up log) replays to the same files', async () => {
  const root = freshRoot();
  const made = await python<{ version: number; paths: string[]; commits: string[] }>(
    `
import json, sys, os, pyarrow as pa
from deltalake import write_deltalake, DeltaTable
path = sys.argv[1]
def batch(start, n):
    ids = list(range(start, start + n))
    return pa.table({"id": pa.array(ids, pa.int64()), "part": pa.array(["p%d" % (i % 2) for i in ids]),
                     "ts": pa.array([i * 1000001 for i in ids], pa.timestamp("us", tz="UTC"))})
write_deltalake(path, batch(0, 10), partition_by=["part"], configuration={"delta.logRetentionDuration": "interval 0 days"})
for i in range(1, 5): write_deltalake(path, batch(i * 10, 10), mode="append")
write_deltalake(path, batch(100, 6), mode="overwrite")
for i in range(2): write_deltalake(path, batch(200 + i * 10, 10), mode="append")
DeltaTable(path).create_checkpoint()
for i in range(3): write_deltalake(path, batch(300 + i * 10, 10), mode="append")
DeltaTable(path).cleanup_metadata()
table = DeltaTable(path)
paths = table.get_add_actions(flatten=True).column("path").to_pylist()
print(json.dumps({"version": table.version(), "paths": sorted(paths), "commits": sorted(os.listdir(os.path.join(path, "_delta_log")))}))
`,
    root,
  );
  assert.ok(!made.commits.includes('00000000000000000000.json'), `delta-rs cleaned up the log before its checkpoint: ${made.commits.join(' ')}`);
  const snapshot = await Snapshot.load(new LogStore(new LocalObjectStore(root)));
  assert.ok(snapshot);
  assert.equal(snapshot.version, made.version);
  assert.equal(snapshot.checkpointVersion, 7);
  assert.deepEqual([...snapshot.files.keys()].map(decodeURIComponent).sort(), made.paths);
  assert.deepEqual(snapshot.metaData?.partitionColumns, ['part']);
  assert.ok(snapshot.tombstones.size > 0, 'the overwrite\'s removes are tombstones');
});

test('what we write reads back in delta-rs, pyarrow and DuckDB: rows, UTC microsecond timestamps, stats; our checkpoint loads in delta-rs', async () => {
  const root = freshRoot();
  const table = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
  const micro = reading(1, { ts: '2026-11-23T05:00:00.123456Z', epoch: '0123456789abcdef', properties: { humidity: 40.5 } });
  await appendExactlyOnce(table, [{ reading: micro, position: { partition: 0, offset: '1' } }], rules, inlineEncoder);
  for (let commit = 0; commit < 9; commit += 1) await appendExactlyOnce(table, messages(2 + commit * 100, 100), rules, inlineEncoder);
  assert.equal(table.snapshot.version, 10);
  await checkpoint(table);
  // Without commits 0-9 only the checkpoint can tell delta-rs what the table holds.
  for (let version = 0; version < 10; version += 1) rmSync(join(root, '_delta_log', `${String(version).padStart(20, '0')}.json`));
  await appendExactlyOnce(table, messages(5000, 50), rules, inlineEncoder);
  const read = await python<{ version: number; rows: number; seqs: number; ts: string; tsType: string; humidity: number; epoch: string; duckType: string; duckTs: string; txn: number; statsMaxSeq: number }>(
    `
import json, sys, glob, duckdb, pyarrow.parquet as pq
from deltalake import DeltaTable
path = sys.argv[1]
table = DeltaTable(path)
data = table.to_pyarrow_table()
rows = data.to_pylist()
first = [r for r in rows if r["seq"] == 1][0]
files = glob.glob(path + "/date=*/*.parquet")
one = pq.read_table(files[0])
con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
duck = con.execute("SELECT typeof(ts), strftime(ts, '%Y-%m-%dT%H:%M:%S.%f') FROM read_parquet(?) WHERE seq = 1", [path + "/date=*/*.parquet"]).fetchone()
max_seqs = table.get_add_actions(flatten=True).column("max.seq").to_pylist()
print(json.dumps({"version": table.version(), "rows": len(rows), "seqs": len({r["seq"] for r in rows}),
  "ts": first["ts"].isoformat(), "tsType": str(one.schema.field("ts").type), "humidity": first["humidity"], "epoch": first["epoch"],
  "duckType": duck[0], "duckTs": duck[1], "txn": table.transaction_version("app-readings-0"),
  "statsMaxSeq": max(max_seqs)}))
`,
    root,
  );
  assert.equal(read.version, 11);
  assert.equal(read.rows, 1 + 900 + 50);
  assert.equal(read.seqs, read.rows, 'every seq once');
  assert.equal(read.ts, '2026-11-23T05:00:00.123456+00:00', 'microseconds kept, in UTC');
  assert.equal(read.tsType, 'timestamp[us, tz=UTC]');
  assert.equal(read.humidity, 40.5);
  assert.equal(read.epoch, '0123456789abcdef');
  assert.equal(read.duckType, 'TIMESTAMP WITH TIME ZONE', 'raw Parquet readers see an instant, not a zone-less time');
  assert.equal(read.duckTs, '2026-11-23T05:00:00.123456');
  assert.equal(read.txn, 5049, 'the txn survives our checkpoint');
  assert.equal(read.statsMaxSeq, 5049);
});

test('a delta-rs checkpoint, new columns and the change data feed turned on by delta-rs do not stop our writer', async () => {
  const root = freshRoot();
  let table = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
  await appendExactlyOnce(table, messages(1, 10), rules, inlineEncoder);
  await python<null>(
    `
import sys
from deltalake import DeltaTable
from deltalake.schema import Field
table = DeltaTable(sys.argv[1])
table.alter.add_columns([Field("analystNote", "string", nullable=True)])
table.alter.set_table_properties({"delta.enableChangeDataFeed": "true"})
DeltaTable(sys.argv[1]).create_checkpoint()
print("null")
`,
    root,
  );
  table = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
  await appendExactlyOnce(table, messages(11, 10), rules, inlineEncoder);
  const read = await python<{ rows: number; notes: unknown[]; cdf: string; fields: string[] }>(
    `
import json, sys
from deltalake import DeltaTable
table = DeltaTable(sys.argv[1])
rows = table.to_pyarrow_table().to_pylist()
print(json.dumps({"rows": len(rows), "notes": sorted({str(r["analystNote"]) for r in rows}), "cdf": table.metadata().configuration.get("delta.enableChangeDataFeed"),
  "fields": [f.name for f in table.schema().fields]}))
`,
    root,
  );
  assert.equal(read.rows, 20);
  assert.deepEqual(read.notes, ['None'], 'the column another writer added is kept, null in our rows');
  assert.equal(read.cdf, 'true');
  assert.ok(read.fields.includes('analystNote') && read.fields.includes('eventType'));
  assert.ok(readdirSync(join(root, '_delta_log')).some((name) => name.endsWith('.checkpoint.parquet')));
});
