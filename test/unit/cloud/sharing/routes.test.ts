import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Counter, Registry } from 'prom-client';
import { loadCloudConfig, type CloudConfig } from '../../../../cloud/config.js';
import { createCloudApp } from '../../../../cloud/http/server.js';
import { DeltaTable } from '../../../../cloud/lake/delta/table.js';
import { appendExactlyOnce, txnNames } from '../../../../cloud/lake/operations/append.js';
import { inlineEncoder } from '../../../../cloud/lake/parquet/encoder-pool.js';
import { LocalObjectStore } from '../../../../cloud/lake/storage/local-store.js';
import { READINGS_TABLE } from '../../../../cloud/lake/tables/readings.js';
import { Catalog } from '../../../../cloud/sharing/catalog.js';
import { fileId } from '../../../../cloud/sharing/query.js';
import { issueToken, RecipientDirectory } from '../../../../cloud/sharing/recipients.js';
import { byteRange, sharingRoutes } from '../../../../cloud/sharing/routes.js';
import { UrlSigner } from '../../../../cloud/sharing/signed-url.js';
import { SharedTables } from '../../../../cloud/sharing/tables.js';
import { silentLogger } from '../../../../shared/log.js';
import { RepeatedWarnings } from '../../../../shared/repeated-warnings.js';
import { aircon } from '../../../support/observations.js';

// The protocol routes on the cloud's fastify app, over a real Delta table in a local folder: what a
// Delta Sharing client sees (the Python client's own run is the integration test).
const dir = mkdtempSync(join(tmpdir(), 'echolake-sharing-routes-'));
const lakeRoot = join(dir, 'lake');
const recipientsFile = join(dir, 'recipients.yaml');
const shares = [
  { name: 'plant', schemas: [{ name: 'lake', tables: [{ name: 'readings', table: 'readings' }, { name: 'empty', table: 'nothing_here' }] }] },
  {
    name: 'office',
    schemas: [{ name: 'lake', tables: [{ name: 'readings', table: 'readings' }, { name: 'deletions', table: 'deletions' }, { name: 'wide', table: 'wide' }, { name: 'elsewhere', table: 'elsewhere' }, { name: 'elsewhere_late', table: 'elsewhere_late' }] }],
  },
];
/** Files in the `wide` table: many more than one NDJSON chunk holds. */
const WIDE_FILES = 3000;
const config: CloudConfig = (() => {
  const base = loadCloudConfig(undefined, {});
  return { ...base, lake: { ...base.lake, root: lakeRoot }, sharing: { ...base.sharing, recipientsFile, shares, maxPageSize: 2, maxVersionsPerQuery: 3, urlSigningKey: 'test-key' } };
})();
let app: FastifyInstance;
let token: string;
let officeToken: string;
let expiredToken: string;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);

before(async () => {
  const table = await DeltaTable.open(new LocalObjectStore(join(lakeRoot, 'readings')), READINGS_TABLE, silentLogger(), 'test');
  const rules = { names: txnNames('app', 'readings'), maxSeqJump: 1000 };
  for (let seq = 1; seq <= 4; seq += 1) {
    await appendExactlyOnce(table, [{ reading: { v: 1, siteId: 's1', seq, ...aircon(seq % 2) }, position: { partition: 0, offset: String(seq) } }], rules, inlineEncoder);
  }
  await tableNeedingDeletionVectors(join(lakeRoot, 'deletions'));
  await tableOfManyFiles(join(lakeRoot, 'wide'), WIDE_FILES);
  await tableOfManyFiles(join(lakeRoot, 'elsewhere'), 1, '/etc/passwd');
  await tableOfManyFiles(join(lakeRoot, 'elsewhere_late'), WIDE_FILES, '/etc/passwd');
  token = issueToken(recipientsFile, 'alice', { shares: ['plant'], expiresAt: inDays(1) }).token;
  officeToken = issueToken(recipientsFile, 'bob', { shares: ['office'], expiresAt: inDays(1) }).token;
  expiredToken = issueToken(recipientsFile, 'old', { shares: ['plant'], expiresAt: new Date(Date.now() - 1000) }).token;
  app = createCloudApp(config.api, 'test', silentLogger());
  const signer = new UrlSigner(config.sharing.urlSigningKey);
  const tables = new SharedTables({ lakeRoot, s3: config.lake.s3, s3PublicEndpoint: '', signer, urlExpirySeconds: 60, prefix: '/ds' });
  const refused = new Counter({ name: 'refused', help: 'refused', labelNames: ['reason'], registers: [new Registry()] });
  await app.register(sharingRoutes, { prefix: '/ds', config: config.sharing, catalog: new Catalog(shares), recipients: new RecipientDirectory(recipientsFile, silentLogger()), tables, signer, refused, warnings: new RepeatedWarnings(silentLogger(), 60_000) });
  await app.ready();
});

after(() => app?.close());

/** A readings table whose writer then turned on deletion vectors (a reader feature the lake cannot read). */
async function tableNeedingDeletionVectors(root: string): Promise<void> {
  const table = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
  await appendExactlyOnce(table, [{ reading: { v: 1, siteId: 's1', seq: 1, ...aircon(1) }, position: { partition: 0, offset: '1' } }], { names: txnNames('app', 'deletions'), maxSeqJump: 1000 }, inlineEncoder);
  const protocol = { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] };
  assert.ok(await table.commit([{ protocol }], { operation: 'UPGRADE PROTOCOL' }));
}

/** A table of `count` files in one commit (the query lists them; nothing reads them), the last one at `lastPath` if given. */
async function tableOfManyFiles(root: string, count: number, lastPath?: string): Promise<void> {
  const table = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'test');
  const pathOf = (i: number) => (i === count - 1 && lastPath !== undefined ? lastPath : `date=2026-11-23/part-${String(i).padStart(5, '0')}.parquet`);
  const adds = Array.from({ length: count }, (_, i) => ({
    add: { path: pathOf(i), partitionValues: { date: '2026-11-23' }, size: 1000 + i, modificationTime: 0, dataChange: true, stats: '{"numRecords":1}' },
  }));
  assert.ok(await table.commit(adds, { operation: 'WRITE' }));
}

/** `bearer` null: no Authorization header at all. */
const get = (url: string, bearer: string | null = token) => app.inject({ method: 'GET', url: `/ds${url}`, headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` } });
const query = (url: string, body: unknown, bearer = token) => app.inject({ method: 'POST', url: `/ds${url}/query`, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
const ndjson = (body: string) => body.trim().split('\n').map((line) => JSON.parse(line) as Record<string, Record<string, unknown>>);
const T = '/shares/plant/schemas/lake/tables/readings';
/** The app on a loopback port too, for what inject cannot show (a body never sent whole, a response cut short). */
let address: Promise<string> | undefined;
const listening = () => (address ??= app.listen({ host: '127.0.0.1', port: 0 }));

test('without a token 401, an unknown or expired token 401, in the protocol\'s error shape', async () => {
  for (const [bearer, message] of [[null, /needs Authorization: Bearer/], ['nope', /not known/], [expiredToken, /expired at/]] as const) {
    const response = await get('/shares', bearer);
    assert.equal(response.statusCode, 401);
    const body = response.json<{ errorCode: string; message: string }>();
    assert.equal(body.errorCode, 'UNAUTHENTICATED');
    assert.match(body.message, message);
    assert.match(String(response.headers['www-authenticate']), /^Bearer /);
  }
});

test('a share not granted is 403, one that does not exist 404; listings show only granted shares', async () => {
  assert.deepEqual((await get('/shares')).json(), { items: [{ name: 'plant' }] });
  const other = await get('/shares/office');
  assert.equal(other.statusCode, 403);
  assert.equal(other.json<{ errorCode: string }>().errorCode, 'PERMISSION_DENIED');
  assert.equal((await get('/shares/office/schemas/lake/tables/readings/version')).statusCode, 403);
  const missing = await get('/shares/nowhere');
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json<{ errorCode: string }>().errorCode, 'RESOURCE_DOES_NOT_EXIST');
  assert.equal((await get('/shares/plant/schemas/nope/tables')).statusCode, 404);
  assert.equal((await get('/shares/plant/schemas/lake/tables/nope/version')).statusCode, 404);
  assert.equal((await get('/shares/plant/schemas/lake/tables/empty/version')).statusCode, 404, 'a table the lake has not written yet');
  assert.equal((await get('/shares/plant/nonsense')).json<{ errorCode: string }>().errorCode, 'RESOURCE_DOES_NOT_EXIST');
});

test('names ignore case; schemas, tables and all-tables page by maxResults and pageToken', async () => {
  assert.deepEqual((await get('/shares/PLANT')).json(), { share: { name: 'plant' } });
  assert.deepEqual((await get('/shares/plant/schemas')).json(), { items: [{ name: 'lake', share: 'plant' }] });
  const first = (await get('/shares/plant/all-tables?maxResults=1')).json<{ items: unknown[]; nextPageToken: string }>();
  assert.deepEqual(first.items, [{ name: 'readings', schema: 'lake', share: 'plant' }]);
  const second = (await get(`/shares/plant/all-tables?maxResults=1&pageToken=${first.nextPageToken}`)).json<{ items: unknown[]; nextPageToken?: string }>();
  assert.deepEqual(second, { items: [{ name: 'empty', schema: 'lake', share: 'plant' }] });
  assert.equal((await get('/shares/plant/schemas/LAKE/tables?maxResults=50')).json<{ items: unknown[] }>().items.length, 2, 'capped by maxPageSize (2)');
  const bad = await get('/shares/plant/all-tables?maxResults=-1');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json<{ errorCode: string }>().errorCode, 'INVALID_PARAMETER_VALUE');
  for (const url of ['/shares?maxResults=0', '/shares/plant/schemas?maxResults=0', '/shares/plant/schemas/lake/tables?maxResults=0', '/shares/plant/all-tables?maxResults=0']) {
    const empty = await get(url);
    assert.equal(empty.statusCode, 400, `${url}: a page of none could only point back at itself`);
    assert.deepEqual(empty.json(), { errorCode: 'INVALID_PARAMETER_VALUE', message: 'querystring maxResults must be >= 1' });
  }
  assert.equal((await get('/shares/plant/all-tables?pageToken=forged')).statusCode, 400);
  assert.equal((await get('/shares/plant/all-tables?maxResults=-1', 'nope')).statusCode, 401, 'the token is checked before anything else');
});

test('version and metadata carry delta-table-version; metadata is protocol then metaData as NDJSON', async () => {
  const version = await get(`${T}/version`);
  assert.equal(version.statusCode, 200);
  assert.equal(version.headers['delta-table-version'], '4');
  const head = await app.inject({ method: 'HEAD', url: `/ds${T}`, headers: { authorization: `Bearer ${token}` } });
  assert.equal(head.headers['delta-table-version'], '4');
  assert.equal((await get(`${T}/version?startingTimestamp=2000-01-01T00:00:00Z`)).headers['delta-table-version'], '0');
  assert.equal((await get(`${T}/version?startingTimestamp=2000-1-1%2000:00:00.5`)).headers['delta-table-version'], '0', 'the protocol\'s older timestamp form');
  assert.equal((await get(`${T}/version?startingTimestamp=2999-01-01T00:00:00Z`)).statusCode, 400);
  assert.equal((await get(`${T}/version?startingTimestamp=yesterday`)).statusCode, 400);
  const metadata = await get(`${T}/metadata`);
  assert.equal(metadata.headers['content-type'], 'application/x-ndjson; charset=utf-8');
  assert.equal(metadata.headers['delta-table-version'], '4');
  const [protocol, meta] = ndjson(metadata.body);
  assert.deepEqual(protocol, { protocol: { minReaderVersion: 1 } });
  assert.deepEqual(meta?.metaData?.partitionColumns, ['date']);
  assert.deepEqual(meta?.metaData?.format, { provider: 'parquet' });
  assert.equal(meta?.metaData?.numFiles, 4);
  assert.equal((await get(`${T}/metadata?version=2`)).headers['delta-table-version'], '2');
});

test('a query lists every live file once with a stable id, size, stats and a signed URL; at a version, that version\'s files', async () => {
  const response = await query(T, {});
  assert.equal(response.headers['delta-table-version'], '4');
  const lines = ndjson(response.body);
  assert.ok(lines[0]?.protocol && lines[1]?.metaData);
  const files = lines.slice(2).map((line) => line.file as { url: string; id: string; size: number; stats: string; partitionValues: Record<string, string>; expirationTimestamp: number });
  assert.equal(files.length, 4);
  assert.equal(new Set(files.map((file) => file.id)).size, 4);
  const again = ndjson((await query(T, {})).body).slice(2).map((line) => (line.file as { id: string }).id);
  assert.deepEqual(again, files.map((file) => file.id), 'ids are stable across requests');
  for (const file of files) {
    assert.equal((JSON.parse(file.stats) as { numRecords: number }).numRecords, 1);
    assert.equal(file.partitionValues.date, '2026-11-23');
    assert.match(file.url, /^http:\/\/localhost:80\/ds\/files\/plant\/lake\/readings\/date%3D2026-11-23\/.+\.parquet\?expires=\d+&size=\d+&sig=/);
    assert.ok(file.expirationTimestamp > Date.now());
  }
  const older = ndjson((await query(T, { version: 2 })).body);
  assert.equal(older.length, 2 + 2);
  assert.equal((older[2]?.file as { version: number }).version, 2);
  assert.equal(ndjson((await query(T, { limitHint: 2 })).body).length, 2 + 2, 'limitHint by the stats\' row counts');
  const onDay = (date: string) => JSON.stringify({ op: 'equal', children: [{ op: 'column', name: 'date', valueType: 'date' }, { op: 'literal', value: date, valueType: 'date' }] });
  assert.equal(ndjson((await query(T, { jsonPredicateHints: onDay('2026-11-24') })).body).length, 2, 'no file of that day');
  assert.equal(ndjson((await query(T, { jsonPredicateHints: onDay('2026-11-23') })).body).length, 2 + 4);
  const latestByTime = await query(T, { timestamp: '2999-01-01T00:00:00Z' });
  assert.equal(latestByTime.headers['delta-table-version'], '4', 'a timestamp after the last commit: the last version');
  assert.equal((await query(T, { timestamp: '2999-01-01 00:00:00' })).headers['delta-table-version'], '4', 'the protocol\'s older timestamp form');
  assert.equal((await query(T, { timestamp: '2000-01-01T00:00:00Z' })).statusCode, 400, 'before the first commit');
  assert.equal((await query(T, { version: 9 })).statusCode, 400);
  assert.equal((await query(T, { version: 1, timestamp: '2026-01-01T00:00:00Z' })).statusCode, 400);
  assert.equal((await query(T, { predicateHints: ['date = \'2026-11-23\''], somethingNew: true })).statusCode, 200, 'hints and unknown fields are accepted');
  assert.equal((await query(T, { limitHint: 'x' })).statusCode, 400);
});

test('startingVersion gives add lines with version and timestamp, bounded by maxVersionsPerQuery', async () => {
  const response = await query(T, { startingVersion: 2, endingVersion: 3 });
  assert.equal(response.headers['delta-table-version'], '2');
  assert.equal(ndjson(response.body)[1]?.metaData?.version, 2, 'the metaData as of the starting version says so, as the reference server\'s does');
  const adds = ndjson(response.body).slice(2).map((line) => line.add as { version: number; timestamp: number; id: string });
  assert.deepEqual(adds.map((add) => add.version), [2, 3]);
  assert.ok(adds.every((add) => add.timestamp > 0));
  const all = ndjson((await query(T, { startingVersion: 2 })).body).slice(2);
  assert.equal(all.length, 3);
  assert.equal((await query(T, { startingVersion: 0 })).statusCode, 400, 'five versions are more than maxVersionsPerQuery (3)');
  assert.equal((await query(T, { startingVersion: 5 })).statusCode, 400);
});

test('the file URL serves the file, whole and by range; a tampered or expired URL is refused', async () => {
  const [file] = ndjson((await query(T, {})).body).slice(2).map((line) => line.file as { url: string; size: number; id: string });
  assert.ok(file);
  const path = file.url.replace('http://localhost:80', '');
  const whole = await app.inject({ method: 'GET', url: path });
  assert.equal(whole.statusCode, 200);
  assert.equal(whole.rawPayload.length, file.size);
  assert.equal(whole.rawPayload.subarray(0, 4).toString(), 'PAR1');
  const tail = await app.inject({ method: 'GET', url: path, headers: { range: 'bytes=-8' } });
  assert.equal(tail.statusCode, 206);
  assert.equal(tail.rawPayload.subarray(4).toString(), 'PAR1');
  assert.equal(tail.headers['content-range'], `bytes ${file.size - 8}-${file.size - 1}/${file.size}`);
  const head = await app.inject({ method: 'HEAD', url: path });
  assert.equal(head.headers['content-length'], String(file.size));
  assert.equal(head.headers['accept-ranges'], 'bytes');
  const url = new URL(`http://x${path}`);
  const tampered = [
    path.replace(/expires=(\d+)/, (_, ms: string) => `expires=${Number(ms) + 1000}`),
    path.replace(/sig=[^&]+/, 'sig=AAAA'),
    path.replace('/readings/', '/empty/'),
    `${url.pathname.replace(/[^/]+\.parquet$/, '_delta_log/00000000000000000000.json')}${url.search}`,
  ];
  for (const altered of tampered) {
    const response = await app.inject({ method: 'GET', url: altered });
    assert.ok([403, 404].includes(response.statusCode), `${altered} answered ${response.statusCode}`);
    assert.notEqual(response.rawPayload.subarray(0, 4).toString(), 'PAR1');
  }
  const refusedSig = await app.inject({ method: 'GET', url: tampered[0] as string });
  assert.equal(refusedSig.statusCode, 403);
  assert.match(refusedSig.json<{ message: string }>().message, /not signed by this server/);
  const signer = new UrlSigner('test-key');
  const key = decodeURIComponent(url.pathname.replace('/ds/files/', ''));
  const expiresAt = Date.now() - 1;
  const expired = await app.inject({ method: 'GET', url: `${url.pathname}?expires=${expiresAt}&size=${file.size}&sig=${signer.sign({ path: key, size: file.size, expiresAt })}` });
  assert.equal(expired.statusCode, 403);
  assert.match(expired.json<{ message: string }>().message, /expired/);
  assert.equal(fileId('a'), fileId('a'));
});

test('a table the reader refuses for a feature is 400 UNSUPPORTED_OPERATION naming the feature, not a 500', async () => {
  const D = '/shares/office/schemas/lake/tables/deletions';
  const answers = [
    await get(`${D}/version`, officeToken),
    await get(`${D}/metadata`, officeToken),
    await query(D, {}, officeToken),
    await query(D, { version: 1 }, officeToken),
    await query(D, { startingVersion: 1 }, officeToken),
  ];
  for (const response of answers) {
    assert.equal(response.statusCode, 400);
    const body = response.json<{ errorCode: string; message: string }>();
    assert.equal(body.errorCode, 'UNSUPPORTED_OPERATION');
    assert.match(body.message, /^table office\.lake\.deletions needs reader feature\(s\) deletionVectors, which this sharing server cannot serve/);
    assert.ok(!body.message.includes(lakeRoot), 'the lake\'s location stays on the server');
  }
});

test('a query over many files answers every one, each line whole, as one NDJSON stream', async () => {
  const response = await query('/shares/office/schemas/lake/tables/wide', {}, officeToken);
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['content-type'], 'application/x-ndjson; charset=utf-8');
  assert.ok(response.body.endsWith('\n'));
  const lines = ndjson(response.body);
  assert.equal(lines.length, 2 + WIDE_FILES);
  const sizes = lines.slice(2).map((line) => (line.file as { size: number }).size);
  assert.deepEqual(new Set(sizes), new Set(Array.from({ length: WIDE_FILES }, (_, i) => 1000 + i)));
});

test('a file outside the table\'s folder: 400 UNSUPPORTED_OPERATION when met before the answer starts, a broken response after', async () => {
  const early = await query('/shares/office/schemas/lake/tables/elsewhere', {}, officeToken);
  assert.equal(early.statusCode, 400);
  assert.equal(early.json<{ errorCode: string }>().errorCode, 'UNSUPPORTED_OPERATION');
  assert.doesNotMatch(early.body, /passwd/);
  // Thousands of lines in, the status is sent: the answer is cut short, never ended as if it were whole.
  const address = await listening();
  const late = await fetch(`${address}/ds/shares/office/schemas/lake/tables/elsewhere_late/query`, { method: 'POST', headers: { authorization: `Bearer ${officeToken}`, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(late.status, 200);
  await assert.rejects(late.text(), 'the client sees the answer broken');
  assert.equal((await get(`${T}/version`)).statusCode, 200, 'and the server goes on');
});

test('hostile bodies: a stranger\'s is refused before it is read, an oversized one is 413, too many hints 400', { timeout: 30_000 }, async () => {
  const address = await listening();
  // Announces 2 MiB and sends 1 KiB: only a server that answers without reading the body answers at all.
  const stranger = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = httpRequest(`${address}/ds${T}/query`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) } }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (text: string) => (body += text));
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    request.on('error', reject);
    request.write(`{"predicateHints":["${'x'.repeat(1024)}`);
  });
  assert.equal(stranger.status, 401);
  assert.equal((JSON.parse(stranger.body) as { errorCode: string }).errorCode, 'UNAUTHENTICATED');

  const oversized = await query(T, { jsonPredicateHints: 'y'.repeat(300 * 1024) });
  assert.equal(oversized.statusCode, 413);
  assert.deepEqual(oversized.json(), { errorCode: 'MALFORMED_REQUEST', message: 'the request body is larger than the 256 KiB a query may send: send fewer or shorter predicate hints' });

  const hints = await query(T, { predicateHints: Array.from({ length: 101 }, (_, i) => `seq = ${i}`) });
  assert.equal(hints.statusCode, 400);
  assert.deepEqual(hints.json(), { errorCode: 'INVALID_PARAMETER_VALUE', message: 'body predicateHints must NOT have more than 100 items' });
  assert.equal((await query(T, { predicateHints: Array.from({ length: 100 }, (_, i) => `seq = ${i}`) })).statusCode, 200, '100 hints are fine');
});

test('byte ranges: open, closed, suffix, past the end, and several (answered whole)', () => {
  assert.deepEqual(byteRange('bytes=0-9', 100), [0, 10]);
  assert.deepEqual(byteRange('bytes=90-', 100), [90, 100]);
  assert.deepEqual(byteRange('bytes=-10', 100), [90, 100]);
  assert.deepEqual(byteRange('bytes=-500', 100), [0, 100]);
  assert.deepEqual(byteRange('bytes=95-200', 100), [95, 100]);
  assert.equal(byteRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(byteRange('bytes=0-1,5-6', 100), undefined);
  assert.equal(byteRange(undefined, 100), undefined);
});
