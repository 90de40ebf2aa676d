// The HTTPS ingest route's answers, through fastify inject: a real IngestCore, real site secrets
// (scrypt), the cloud app's real error handling, and a sink that records or fails like Kafka down.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createCloudApp } from '../../../../cloud/http/server.js';
import { IngestCore } from '../../../../cloud/ingest/core.js';
import { httpsIngestRoutes } from '../../../../cloud/ingest/https-route.js';
import { SiteAuthorizer } from '../../../../cloud/sites/authorizer.js';
import { StaticSiteRegistry } from '../../../../cloud/sites/registry.js';
import { SiteStatusBoard } from '../../../../cloud/sites/status-board.js';
import { DEFAULT_VERIFICATION_LIMITS, type VerificationLimits } from '../../../../cloud/sites/verification-limit.js';
import { encodeBatch } from '../../../../shared/contract/envelopes.js';
import { silentLogger, type Logger } from '../../../../shared/log.js';
import { CLOUD_PASSWORD, CLOUD_USER, testSecret, testSite } from '../../../support/cloud-sites.js';
import { aircon } from '../../../support/observations.js';
import { RecordingSink } from '../../../support/recording-sink.js';

const MAX_BATCH_BYTES = 4000;
const API = { enabled: true, host: '127.0.0.1', port: 0, operators: [], tls: {}, behindTlsProxy: false, maxConcurrentRequests: 10 };
const ROUTE = (siteId: string): string => `/v1/sites/${siteId}/readings`;

interface Rig {
  app: FastifyInstance;
  sink: RecordingSink;
  metrics: Registry;
}

async function rig(limits: VerificationLimits = DEFAULT_VERIFICATION_LIMITS, log: Logger = silentLogger()): Promise<Rig> {
  const sites = new StaticSiteRegistry([await testSite('a'), await testSite('b'), await testSite('off', { enabled: false })]);
  const sink = new RecordingSink();
  const metrics = new Registry();
  const limitsOfCore = { maxBatchBytes: MAX_BATCH_BYTES, maxInFlightBatches: 8, deadLetterMaxBytes: 1024 };
  const core = new IngestCore(sink, sites, new SiteStatusBoard(sites, metrics), limitsOfCore, metrics, silentLogger());
  const app = createCloudApp(API, 'test', log);
  const authorizer = new SiteAuthorizer(sites, { username: CLOUD_USER, password: CLOUD_PASSWORD }, limits);
  await app.register(httpsIngestRoutes, { core, authorizer, maxBatchBytes: MAX_BATCH_BYTES, metrics });
  await app.ready();
  return { app, sink, metrics };
}

/** A batch of `count` readings from `siteId`, which may claim to be another site. */
const batch = (siteId: string, count = 2, claimed = siteId): string =>
  encodeBatch(claimed, `1-${count}`, Array.from({ length: count }, (_, i) => JSON.stringify({ v: 1, siteId: claimed, seq: i + 1, ...aircon(i % 3) })));

const post = (app: FastifyInstance, siteId: string, secret: string | undefined, payload: string, contentType = 'application/json'): Promise<LightMyRequestResponse> =>
  app.inject({
    method: 'POST',
    url: ROUTE(siteId),
    headers: { 'content-type': contentType, ...(secret !== undefined && { authorization: `Bearer ${secret}` }) },
    payload,
  });

/** The status, the error's code, and that the body is exactly `{error:{code,message}}` (plus an ack where one is due). */
function refusal(response: LightMyRequestResponse): [number, string] {
  const body = response.json<{ error?: { code?: unknown; message?: unknown } }>();
  const { ack: _ack, ...rest } = body as Record<string, unknown>;
  assert.deepEqual(Object.keys(rest), ['error'], `only an error in ${response.body}`);
  assert.deepEqual(Object.keys(body.error ?? {}).sort(), ['code', 'message'], response.body);
  assert.equal(typeof body.error?.code, 'string');
  assert.ok(typeof body.error?.message === 'string' && body.error.message.length > 0, response.body);
  return [response.statusCode, String(body.error?.code)];
}

async function refusedCount(metrics: Registry, reason: string): Promise<number> {
  const values = (await metrics.getSingleMetric('echolake_https_ingest_refused_total')?.get())?.values ?? [];
  return values.find((value) => value.labels.reason === reason)?.value ?? 0;
}

test('a site\'s own batch with its secret is acked after the sink has it', async () => {
  const { app, sink } = await rig();
  const response = await post(app, 'a', testSecret('a'), batch('a'));
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { v: 1, siteId: 'a', batchId: '1-2', lastSeq: 2 });
  assert.equal(sink.batches.length, 1);
  await app.close();
});

test('credentials: none, another site\'s, a disabled site\'s, the cloud\'s own — refused before the body is read, and counted', async () => {
  const { app, sink, metrics } = await rig();
  const none = await post(app, 'a', undefined, batch('a'));
  assert.deepEqual(refusal(none), [401, 'unauthorized']);
  assert.match(String(none.headers['www-authenticate']), /^Bearer /);
  const foreignSecret = await post(app, 'a', testSecret('b'), batch('a'));
  assert.deepEqual(refusal(foreignSecret), [401, 'unauthorized']);
  assert.match(String(foreignSecret.headers['www-authenticate']), /invalid_token/);
  assert.deepEqual(refusal(await post(app, 'nobody', testSecret('a'), batch('nobody'))), [401, 'unauthorized']);
  assert.deepEqual(refusal(await post(app, 'off', testSecret('off'), batch('off'))), [403, 'forbidden']);
  assert.deepEqual(refusal(await post(app, CLOUD_USER, CLOUD_PASSWORD, batch(CLOUD_USER))), [403, 'forbidden']);
  assert.deepEqual([sink.batches.length, sink.letters.length], [0, 0], 'nothing reached the sink, not even as a dead letter');
  for (const [reason, count] of [['no-bearer', 1], ['bad-secret', 1], ['unknown-user', 1], ['site-disabled', 1], ['not-a-site', 1]] as const) {
    assert.equal(await refusedCount(metrics, reason), count, reason);
  }
  await app.close();
});

test('a batch naming another site is kept as a dead letter, never acked: 403', async () => {
  const { app, sink, metrics } = await rig();
  const response = await post(app, 'a', testSecret('a'), batch('a', 2, 'b'));
  assert.deepEqual(refusal(response), [403, 'forbidden']);
  assert.match(response.json<{ error: { message: string } }>().error.message, /claims site b/);
  assert.equal('ack' in response.json<object>(), false);
  assert.deepEqual([sink.batches.length, sink.letters[0]?.reason], [0, 'foreign-site']);
  assert.equal(await refusedCount(metrics, 'foreign-site'), 1);
  await app.close();
});

test('a body over ingest.maxBatchBytes: 413 naming the limit, before the core sees it', async () => {
  const { app, sink, metrics } = await rig();
  const big = batch('a', 20);
  assert.ok(Buffer.byteLength(big) > MAX_BATCH_BYTES);
  const response = await post(app, 'a', testSecret('a'), big);
  assert.deepEqual(refusal(response), [413, 'payload_too_large']);
  assert.match(response.json<{ error: { message: string } }>().error.message, /ingest\.maxBatchBytes 4000.*uplink\.batchMaxBytes/);
  assert.deepEqual([sink.batches.length, sink.letters.length], [0, 0]);
  assert.equal(await refusedCount(metrics, 'too-large'), 1);
  await app.close();
});

test('a body chunked past the limit (no length announced) is cut off by fastify with 413, also counted', async () => {
  const { app, metrics } = await rig();
  const response = await app.inject({
    method: 'POST',
    url: ROUTE('a'),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${testSecret('a')}` },
    // A stream: no content-length, so only fastify's body limit can stop it.
    payload: Readable.from([Buffer.from(batch('a', 20))]),
  });
  assert.deepEqual(refusal(response), [413, 'payload_too_large']);
  assert.equal(await refusedCount(metrics, 'too-large'), 1);
  await app.close();
});

test('a body that is not JSON: 400 or 415, counted', async () => {
  const { app, metrics } = await rig();
  assert.deepEqual(refusal(await post(app, 'a', testSecret('a'), batch('a'), 'text/plain')), [400, 'invalid_request']);
  assert.deepEqual(refusal(await post(app, 'a', testSecret('a'), batch('a'), 'application/xml')), [415, 'unsupported_media_type']);
  assert.equal(await refusedCount(metrics, 'not-json'), 2);
  await app.close();
});

test('a string too long for the contract: 422 with the ack, the batch kept as a dead letter', async () => {
  const { app, sink } = await rig();
  const readings = [1, 2].map((seq) => JSON.stringify({ v: 1, siteId: 'a', seq, ...aircon(0), ...(seq === 2 && { deviceId: 'd'.repeat(1000) }) }));
  const response = await post(app, 'a', testSecret('a'), encodeBatch('a', '1-2', readings));
  assert.deepEqual(refusal(response), [422, 'dead_lettered']);
  assert.deepEqual(response.json<{ ack: unknown }>().ack, { v: 1, siteId: 'a', batchId: '1-2', lastSeq: 2 });
  assert.deepEqual([sink.batches.length, sink.letters[0]?.reason], [0, 'invalid']);
  await app.close();
});

test('bytes that do not parse: 422 without an ack (nothing to acknowledge), kept as a dead letter', async () => {
  const { app, sink } = await rig();
  const response = await post(app, 'a', testSecret('a'), '{"v":1,"siteId":"a","batchId":"1-2","readings":[');
  assert.deepEqual(refusal(response), [422, 'dead_lettered']);
  assert.equal('ack' in response.json<object>(), false);
  assert.equal(sink.letters[0]?.reason, 'invalid');
  await app.close();
});

test('Kafka down: 503 with Retry-After, nothing acked', async () => {
  const { app, sink } = await rig();
  sink.down = true;
  const response = await post(app, 'a', testSecret('a'), batch('a'));
  assert.deepEqual(refusal(response), [503, 'unavailable']);
  assert.ok(Number(response.headers['retry-after']) > 0);
  assert.equal(sink.batches.length, 0);
  await app.close();
});

test('secret checks at their limit: 503 with Retry-After, counted as busy', async () => {
  const { app, sink, metrics } = await rig({ ...DEFAULT_VERIFICATION_LIMITS, maxConcurrent: 0, maxWaiting: 0 });
  const response = await post(app, 'a', testSecret('a'), batch('a'));
  assert.deepEqual(refusal(response), [503, 'unavailable']);
  assert.ok(Number(response.headers['retry-after']) > 0);
  assert.equal(sink.batches.length, 0);
  assert.equal(await refusedCount(metrics, 'busy'), 1);
  await app.close();
});

test('refusals are logged with the site and reason, never the secret, and a flood makes a summary, not a line each', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const { app } = await rig(DEFAULT_VERIFICATION_LIMITS, log);
  for (let i = 0; i < 20; i += 1) await post(app, 'a', `guess-${i}`, batch('a'));
  const refusals = (): Array<Record<string, unknown>> => lines.filter((line) => line.msg === 'https ingest refused');
  assert.equal(refusals().length, 1);
  assert.deepEqual([refusals()[0]?.siteId, refusals()[0]?.reason, refusals()[0]?.status], ['a', 'bad-secret', 401]);
  await app.close();
  assert.equal(lines.find((line) => line.repeated !== undefined)?.repeated, 19, 'at close, a summary counts the other 19');
  assert.ok(!JSON.stringify(lines).includes('guess-'), 'no secret in the log');
});
