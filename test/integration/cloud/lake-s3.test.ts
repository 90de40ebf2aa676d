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
// past one page, and a Delta table on S3 that delta-rs reads back.
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

test('a Delta table on S3, checkpointed, reads back in delta-rs', async () => {
  const store = openTableStore(`s3://${bucket}/lake`, 'readings', settings());
  const table = await DeltaTable.open(store, READINGS_TABLE, silentLogger(), 'test');
  const rules = { names: txnNames('app', 'readings'), maxSeqJump: 1_000_000 };
  for (let commit = 0; commit < 10; commit += 1) {
    const pending: PendingMessage[] = Array.from({ length: 20 }, (_, i) => {
      const seq = commit * 20 + i + 1;
      return { reading: { v: 1, siteId: 's1', seq, ...aircon(seq % 3) }, position: { partition: 0, offset: String(seq) } };
    });
    await appendExactlyOnce(table, pending, rules, inlineEncoder);
  }
  await checkpoint(table);
  const reopened = await DeltaTable.open(store, READINGS_TABLE, silentLogger(), 'test');
  assert.equal(reopened.snapshot.checkpointVersion, 10);
  assert.equal(reopened.snapshot.files.size, 10);
  const s3 = settings();
  const read = await python<{ version: number; rows: number; txn: number }>(
    `
import json, sys
from deltalake import DeltaTable
options = {"AWS_ENDPOINT_URL": sys.argv[2], "AWS_REGION": sys.argv[3], "AWS_ACCESS_KEY_ID": sys.argv[4], "AWS_SECRET_ACCESS_KEY": sys.argv[5],
           "AWS_ALLOW_HTTP": "true", "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false"}
table = DeltaTable(sys.argv[1], storage_options=options)
print(json.dumps({"version": table.version(), "rows": table.to_pyarrow_table().num_rows, "txn": table.transaction_version("app-readings-0")}))
`,
    `s3://${bucket}/lake/readings`,
    s3.endpoint,
    s3.region,
    s3.accessKeyId,
    s3.secretAccessKey,
  );
  assert.deepEqual(read, { version: 10, rows: 200, txn: 200 });
});
