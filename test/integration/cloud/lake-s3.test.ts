import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { before, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { DeltaTable } from '../../../cloud/lake/delta/table.js';
import { appendExactlyOnce, txnNames, type PendingMessage } from '../../../cloud/lake/operations/append.js';
import { checkpoint } from '../../../cloud/lake/operations/checkpoint.js';
import { inlineEncoder } from '../../../cloud/lake/parquet/encoder-pool.js';
import { openTableStore } from '../../../cloud/lake/storage/open-store.js';
import { s3Client, type S3Settings } from '../../../cloud/lake/storage/s3-store.js';
import { READINGS_TABLE } from '../../../cloud/lake/tables/readings.js';
import { silentLogger } from '../../../shared/log.js';
import { requiredEnv } from '../../support/env.js';
import { aircon } from '../../support/observations.js';
import { python } from '../../support/python.js';

// The S3 store on a real S3-compatible server (moto): conditional puts, multipart uploads, listings
// past one page, and a Delta table on S3 that three independent readers read back the same: delta-rs
// through its log, and pyarrow and DuckDB straight from the Parquet files delta-rs lists.
const settings = (): S3Settings => ({
  endpoint: requiredEnv('ECHOLAKE_TEST_S3_ENDPOINT'),
  region: requiredEnv('ECHOLAKE_TEST_S3_REGION'),
  accessKeyId: requiredEnv('ECHOLAKE_TEST_S3_ACCESS_KEY'),
  secretAccessKey: requiredEnv('ECHOLAKE_TEST_S3_SECRET_KEY'),
  forcePathStyle: true,
});
const bucket = `lake-${randomUUID().slice(0, 8)}`;

before(async () => {
  await s3Client(settings()).send(new CreateBucketCommand({ Bucket: bucket }));
});

test('an s3:// root is an S3 store, never a local folder', () => {
  const store = openTableStore(`s3://${bucket}/some/prefix`, 'readings', settings());
  assert.equal(store.location, `s3://${bucket}/some/prefix/readings/`);
  assert.throws(() => openTableStore('gs://bucket/x', 'readings', settings()), /scheme gs:\/\/ is not supported/);
  assert.throws(() => openTableStore('s3:///x', 'readings', settings()), /names no bucket/);
});

test('put, ranged get, delete, and put-if-absent with exactly one winner among racing writers', async () => {
  const store = openTableStore(`s3://${bucket}/basic`, 't', settings());
  await store.put('a/b.bin', Buffer.from('0123456789'));
  assert.equal((await store.get('a/b.bin'))?.toString(), '0123456789');
  assert.equal((await store.getRange('a/b.bin', 2, 5))?.toString(), '234');
  assert.equal(await store.get('missing'), undefined);
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.putIfAbsent('_delta_log/00000000000000000001.json', Buffer.from(`w${i}`))));
  assert.equal(results.filter(Boolean).length, 1, 'If-None-Match: * lets one writer win');
  assert.equal((await store.get('_delta_log/00000000000000000001.json'))?.toString(), `w${results.indexOf(true)}`);
  await store.delete('a/b.bin');
  assert.equal(await store.get('a/b.bin'), undefined);
});

test('a large file goes up as a multipart upload and comes back whole', async () => {
  const store = openTableStore(`s3://${bucket}/large`, 't', settings());
  const body = randomBytes(40 * 1024 * 1024);
  await store.put('big.parquet', body);
  const back = await store.get('big.parquet');
  assert.ok(back?.equals(body));
  const [meta] = await store.list('');
  assert.equal(meta?.size, body.length);
});

test('a listing goes past one page and starts after a key', async () => {
  const store = openTableStore(`s3://${bucket}/many`, 't', settings());
  const keys = Array.from({ length: 1_050 }, (_, i) => `_delta_log/${String(i).padStart(20, '0')}.json`);
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, Buffer.from('{}'))));
  const all = await store.list('_delta_log/');
  assert.equal(all.length, 1_050);
  assert.deepEqual(all.map((o) => o.key), keys);
  const tail = await store.list('_delta_log/', { startAfter: keys[1_039] });
  assert.deepEqual(tail.map((o) => o.key), keys.slice(1_040));
});

/** One row as every reader must give it: identity, UTC timestamp, typed values, partition. */
type Row = [string, number, string, number | null, number | null, boolean | null, string];

interface ReadBack {
  version: number;
  txn: number;
  /** Sorted rows per reader. */
  deltaRs: Row[];
  pyarrow: Row[];
  duckdb: Row[];
  /** The ts column's type as each raw Parquet reader sees it. */
  types: { pyarrow: string; duckdb: string };
}

/**
 * delta-rs reads the table through its log; pyarrow reads each data file delta-rs lists straight
 * from S3 (its own S3 client); DuckDB reads the same files with read_parquet once downloaded (its
 * httpfs and delta extensions are downloaded on first use, which this machine cannot do).
 */
const READ_EVERYWHERE = `
import datetime, json, os, sys, tempfile
from urllib.parse import unquote
# Credentials and region are given: never ask an instance metadata service (loopback only).
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
import duckdb, pyarrow, pyarrow.fs, pyarrow.parquet
from deltalake import DeltaTable
uri, endpoint, region, key, secret = sys.argv[1:6]
options = {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": region, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_ALLOW_HTTP": "true", "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false"}
COLUMNS = ["siteId", "seq", "ts", "roomTemperature", "targetTemperature", "operationStatus"]
def rows(arrow):
    return sorted([r["siteId"], r["seq"], r["ts"].astimezone(datetime.timezone.utc).isoformat(), r["roomTemperature"], r["targetTemperature"],
                   r["operationStatus"], str(r["date"])] for r in arrow.to_pylist())
table = DeltaTable(uri, storage_options=options)
adds = pyarrow.table(table.get_add_actions(flatten=True)).to_pylist()
s3 = pyarrow.fs.S3FileSystem(access_key=key, secret_key=secret, region=region, endpoint_override=endpoint)
base = uri[len("s3://"):]
local = tempfile.mkdtemp()
pieces, files = [], []
for add in adds:
    relative = unquote(add["path"])
    piece = pyarrow.parquet.read_table(base + "/" + relative, filesystem=s3, columns=COLUMNS)
    pieces.append(piece.append_column("date", pyarrow.array([add["partition.date"]] * piece.num_rows, pyarrow.date32())))
    files.append(os.path.join(local, relative))
    os.makedirs(os.path.dirname(files[-1]), exist_ok=True)
    pyarrow.fs.copy_files(base + "/" + relative, files[-1], source_filesystem=s3, destination_filesystem=pyarrow.fs.LocalFileSystem())
con = duckdb.connect()
query = "SELECT %s, date FROM read_parquet(?, hive_partitioning = true)" % ", ".join('"%s"' % c for c in COLUMNS)
print(json.dumps({"version": table.version(), "txn": table.transaction_version("app-readings-0"),
  "deltaRs": rows(table.to_pyarrow_table(columns=COLUMNS + ["date"])), "pyarrow": rows(pyarrow.concat_tables(pieces)),
  "duckdb": rows(con.execute(query, [files]).to_arrow_table()),
  "types": {"pyarrow": str(pieces[0].schema.field("ts").type), "duckdb": con.execute("SELECT typeof(ts) FROM read_parquet(?) LIMIT 1", [files[0]]).fetchone()[0]}}))
`;

test('a Delta table on S3, checkpointed, reads back the same in delta-rs, pyarrow and DuckDB', async () => {
  const store = openTableStore(`s3://${bucket}/lake`, 'readings', settings());
  const table = await DeltaTable.open(store, READINGS_TABLE, silentLogger(), 'test');
  const rules = { names: txnNames('app', 'readings'), maxSeqJump: 1_000_000 };
  const sent: Row[] = [];
  for (let commit = 0; commit < 10; commit += 1) {
    const pending: PendingMessage[] = Array.from({ length: 20 }, (_, i) => {
      const seq = commit * 20 + i + 1;
      // Two dates (two partitions), microsecond timestamps, and a null among the values.
      const ts = `2026-11-2${3 + (seq % 2)}T05:00:00.${String(seq).padStart(6, '0')}Z`;
      const observation = aircon(seq % 3, { ts, properties: { operationStatus: seq % 5 === 0 ? null : true, targetTemperature: 26, roomTemperature: 28 - (seq % 3) } });
      sent.push(['s1', seq, `${ts.slice(0, 19)}.${String(seq).padStart(6, '0')}+00:00`, 28 - (seq % 3), 26, seq % 5 === 0 ? null : true, ts.slice(0, 10)]);
      return { reading: { v: 1, siteId: 's1', seq, ...observation }, position: { partition: 0, offset: String(seq) } };
    });
    await appendExactlyOnce(table, pending, rules, inlineEncoder);
  }
  await checkpoint(table);
  const reopened = await DeltaTable.open(store, READINGS_TABLE, silentLogger(), 'test');
  assert.equal(reopened.snapshot.checkpointVersion, 10);
  assert.ok(reopened.snapshot.files.size >= 10);
  const s3 = settings();
  const read = await python<ReadBack>(READ_EVERYWHERE, `s3://${bucket}/lake/readings`, s3.endpoint, s3.region, s3.accessKeyId, s3.secretAccessKey);
  assert.equal(read.version, 10);
  assert.equal(read.txn, 200);
  sent.sort((a, b) => (a[1] < b[1] ? -1 : 1));
  assert.deepEqual(read.deltaRs, sent, 'delta-rs: every row and value');
  assert.deepEqual(read.pyarrow, sent, 'pyarrow: every row and value');
  assert.deepEqual(read.duckdb, sent, 'DuckDB: every row and value');
  assert.deepEqual(read.types, { pyarrow: 'timestamp[us, tz=UTC]', duckdb: 'TIMESTAMP WITH TIME ZONE' });
});
