import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeltaLogError } from '../../../../cloud/lake/delta/actions.js';
import { UrlSigner } from '../../../../cloud/sharing/signed-url.js';
import { objectKeyOf, SharedTables } from '../../../../cloud/sharing/tables.js';

const table = { share: 'plant', schema: 'lake', name: 'readings', table: 'readings' };
const s3 = { endpoint: 'http://10.0.0.9:9000', region: 'us-east-1', accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', forcePathStyle: true };
const options = { s3, signer: new UrlSigner('k'), urlExpirySeconds: 600, prefix: '/delta-sharing' };

test('an S3 table\'s links are pre-signed for the lake\'s endpoint, or for s3PublicEndpoint when set', async () => {
  const internal = await new SharedTables({ ...options, lakeRoot: 's3://bucket/lake', s3PublicEndpoint: '' }).link(table, 'date=2026-11-23/a.parquet', 10, 'http://api', 1_000);
  assert.equal(new URL(internal.url).host, '10.0.0.9:9000');
  assert.equal(new URL(internal.url).pathname, '/bucket/lake/readings/date%3D2026-11-23/a.parquet');
  assert.equal(internal.expirationTimestamp, 1_000 + 600_000);
  const published = await new SharedTables({ ...options, lakeRoot: 's3://bucket/lake', s3PublicEndpoint: 'https://s3.example.com' }).link(table, 'date=2026-11-23/a.parquet', 10, 'http://api');
  assert.equal(new URL(published.url).host, 's3.example.com');
  assert.equal(new URL(published.url).searchParams.get('X-Amz-Expires'), '600');
});

test('a local table\'s links point at this server\'s file route, signed over path, size and expiry', async () => {
  const link = await new SharedTables({ ...options, lakeRoot: '/var/lake', s3PublicEndpoint: 'https://ignored' }).link(table, 'date=2026-11-23/a%20b.parquet', 10, 'https://lake.example.com', 1_000);
  const url = new URL(link.url);
  assert.equal(url.origin, 'https://lake.example.com');
  assert.equal(decodeURIComponent(url.pathname), '/delta-sharing/files/plant/lake/readings/date=2026-11-23/a b.parquet');
  assert.equal(url.searchParams.get('size'), '10');
  assert.equal(options.signer.verify({ path: 'plant/lake/readings/date=2026-11-23/a b.parquet', size: 10, expiresAt: 601_000 }, url.searchParams.get('sig') ?? '', 1_000), 'valid');
});

test('add paths outside the table\'s folder are refused, not followed', () => {
  assert.equal(objectKeyOf('date%3D2026-11-23/part-1.parquet'), 'date=2026-11-23/part-1.parquet');
  for (const path of ['s3://other-bucket/x.parquet', '/etc/passwd', '../other/x.parquet', 'a//b.parquet', '%E0%A4%A']) {
    assert.throws(() => objectKeyOf(path), DeltaLogError, path);
  }
});
