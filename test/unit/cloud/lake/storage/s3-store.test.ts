import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3ObjectStore, s3Client } from '../../../../../cloud/lake/storage/s3-store.js';

// Pre-signing is computed locally (no request): the URL must name the object under the table's
// prefix and carry a SigV4 signature that expires when asked. moto honours these in the integration test.
test('a pre-signed GET names the object under the prefix and expires as asked', async () => {
  const client = s3Client({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', forcePathStyle: true });
  const store = new S3ObjectStore(client, 'bucket', 'lake/readings');
  const url = new URL(await store.presignGet('date=2026-11-23/part 1.parquet', 900));
  assert.equal(url.origin, 'http://127.0.0.1:9');
  assert.equal(decodeURIComponent(url.pathname), '/bucket/lake/readings/date=2026-11-23/part 1.parquet');
  assert.equal(url.searchParams.get('X-Amz-Expires'), '900');
  assert.equal(url.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
  assert.match(url.searchParams.get('X-Amz-Credential') ?? '', /^AKIDTEST\//);
  assert.match(url.searchParams.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
  assert.ok(!url.href.includes('secret'), 'the secret key never appears in the URL');
});
