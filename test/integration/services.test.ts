// Checks that the test services (test/services) are there and behave as the rest of the suite needs.
// Run through the harness, which sets the ECHOLAKE_TEST_* variables:
//   node --import tsx test/services/cli.ts run -- node --import tsx --test test/integration/services.test.ts
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import mqtt from 'mqtt';

const HOW_TO_RUN =
  'run the tests through the services harness: node --import tsx test/services/cli.ts run -- ' +
  'node --import tsx --test test/integration/services.test.ts';

/** The variable's value, or a failing assertion that says which one is missing. */
function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') assert.fail(`${name} is not set; ${HOW_TO_RUN}`);
  return value;
}

const suffix = (): string => randomBytes(4).toString('hex');

void test('kafka: idempotent producer (acks=-1) and a consumer group read back', { timeout: 90_000 }, async () => {
  const brokers = requireEnv('ECHOLAKE_TEST_KAFKA_BROKERS').split(',');
  const kafka = new Kafka({ clientId: 'services-test', brokers, logLevel: logLevel.WARN });
  const topic = `services-test-${suffix()}`;
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({ groupId: `services-test-${suffix()}`, maxWaitTimeInMs: 500 });
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }), true);
    await producer.connect();
    const sent = Array.from({ length: 30 }, (_, i) => ({ key: `device-${i % 5}`, value: `reading-${i}` }));
    const acks = await producer.send({ topic, acks: -1, messages: sent });
    for (const ack of acks) assert.equal(ack.errorCode, 0);

    const received: { key: string; value: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received.length}/${sent.length} messages came back`)), 60_000);
      consumer
        .run({
          eachMessage: ({ message }) => {
            received.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
            if (received.length === sent.length) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    assert.deepEqual(
      received.map((m) => m.value).sort(),
      sent.map((m) => m.value).sort(),
    );
    // One key lives in one partition, so each device's readings come back in the order they were sent.
    for (let d = 0; d < 5; d++) {
      const key = `device-${d}`;
      assert.deepEqual(
        received.filter((m) => m.key === key).map((m) => m.value),
        sent.filter((m) => m.key === key).map((m) => m.value),
      );
    }
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

void test('mqtt: QoS 1 publish/subscribe roundtrip over MQTT 5', { timeout: 30_000 }, async () => {
  const url = requireEnv('ECHOLAKE_TEST_MQTT_URL');
  const topic = `echolake/test/services/${suffix()}`;
  const client = mqtt.connect(url, {
    protocolVersion: 5,
    clientId: `services-test-${suffix()}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  // Handler before CONNACK, as the edge code must do.
  const message = new Promise<{ payload: string; qos: number; prop?: string }>((resolve) => {
    client.on('message', (t, payload, packet) => {
      if (t !== topic) return;
      const prop = packet.properties?.userProperties?.schema;
      resolve({ payload: payload.toString(), qos: packet.qos, prop: Array.isArray(prop) ? prop[0] : prop });
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const granted = await client.subscribeAsync(topic, { qos: 1 });
    assert.equal(granted[0]?.qos, 1);
    const body = JSON.stringify({ siteId: 'site-1', seq: 1 });
    await client.publishAsync(topic, body, { qos: 1, properties: { userProperties: { schema: 'v1' } } });
    const got = await message;
    assert.deepEqual(got, { payload: body, qos: 1, prop: 'v1' });
  } finally {
    await client.endAsync();
  }
});

void test('s3: conditional put (If-None-Match *) and a multipart upload', { timeout: 60_000 }, async () => {
  const endpoint = requireEnv('ECHOLAKE_TEST_S3_ENDPOINT');
  const s3 = new S3Client({
    endpoint,
    region: requireEnv('ECHOLAKE_TEST_S3_REGION'),
    forcePathStyle: true,
    credentials: {
      accessKeyId: requireEnv('ECHOLAKE_TEST_S3_ACCESS_KEY'),
      secretAccessKey: requireEnv('ECHOLAKE_TEST_S3_SECRET_KEY'),
    },
  });
  const Bucket = `services-test-${suffix()}`;
  const commitKey = 'table/_delta_log/00000000000000000000.json';
  const bigKey = `table/part-${randomUUID()}.parquet`;
  try {
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: commitKey, Body: '{"first":true}\n', IfNoneMatch: '*' }));
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket, Key: commitKey, Body: '{"second":true}\n', IfNoneMatch: '*' })),
      (err: unknown) => {
        assert.ok(err instanceof S3ServiceException, `expected an S3 error, got ${String(err)}`);
        assert.equal(err.$metadata.httpStatusCode, 412);
        assert.equal(err.name, 'PreconditionFailed');
        return true;
      },
    );
    const first = await s3.send(new GetObjectCommand({ Bucket, Key: commitKey }));
    assert.equal(await first.Body?.transformToString(), '{"first":true}\n');

    const size = 12 * 1024 * 1024 + 12345;
    const body = randomBytes(size);
    const upload = new Upload({ client: s3, params: { Bucket, Key: bigKey, Body: body }, partSize: 5 * 1024 * 1024 });
    let parts = 0;
    upload.on('httpUploadProgress', () => void parts++);
    await upload.done();
    assert.ok(parts >= 3, `expected a multipart upload (>= 3 parts), saw ${parts} progress events`);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: bigKey }));
    assert.equal(got.ContentLength, size);
    const bytes = await got.Body?.transformToByteArray();
    assert.equal(bytes?.length, size);
    assert.ok(Buffer.from(bytes ?? []).equals(body), 'the downloaded object differs from the uploaded bytes');
  } finally {
    await s3.send(new DeleteObjectCommand({ Bucket, Key: commitKey })).catch(() => undefined);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: bigKey })).catch(() => undefined);
    await s3.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
    s3.destroy();
  }
});

void test('python: the venv imports deltalake, pyarrow and duckdb', { timeout: 60_000 }, async (t) => {
  const python = requireEnv('ECHOLAKE_TEST_PYTHON');
  const script =
    'import json, deltalake, pyarrow, duckdb\n' +
    'print(json.dumps({"deltalake": deltalake.__version__, "pyarrow": pyarrow.__version__, "duckdb": duckdb.__version__}))';
  const { stdout } = await promisify(execFile)(python, ['-c', script], { timeout: 50_000 });
  const versions = JSON.parse(stdout) as Record<string, string>;
  for (const lib of ['deltalake', 'pyarrow', 'duckdb']) {
    assert.match(versions[lib] ?? '', /^\d+\.\d+/, `${lib} has no version: ${stdout}`);
  }
  t.diagnostic(`python libraries: ${JSON.stringify(versions)}`);
});

void test('sharing: its own venv imports the delta-sharing client with the pandas and pyarrow it pins', { timeout: 60_000 }, async () => {
  const python = requireEnv('ECHOLAKE_TEST_SHARING_PYTHON');
  const script = 'import json, delta_sharing, pandas, pyarrow\nprint(json.dumps({"delta_sharing": delta_sharing.__version__, "pandas": pandas.__version__, "pyarrow": pyarrow.__version__}))';
  const { stdout } = await promisify(execFile)(python, ['-c', script], { timeout: 50_000 });
  assert.deepEqual(JSON.parse(stdout), { delta_sharing: '1.4.2', pandas: '2.3.3', pyarrow: '23.0.1' });
});
