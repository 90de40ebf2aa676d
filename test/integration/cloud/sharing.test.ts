import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { stringify } from 'yaml';
import { s3Client, type S3Settings } from '../../../cloud/lake/storage/s3-store.js';
import { issueToken } from '../../../cloud/sharing/recipients.js';
import { UrlSigner } from '../../../cloud/sharing/signed-url.js';
import type { Reading } from '../../../shared/reading.js';
import { writeTestRegistry } from '../../support/cloud-sites.js';
import { Deployable, type LogEvent } from '../../support/deployable.js';
import { requiredEnv } from '../../support/env.js';
import { aircon } from '../../support/observations.js';

// The Delta Sharing role as an analyst meets it: the real Python client (`delta-sharing` from PyPI)
// with a profile file from `echolake-cloud share-profile`, reading tables the lake role wrote from
// real Kafka, on a local folder and on S3 (moto).
const run = randomUUID().slice(0, 8);
const run$ = promisify(execFile);
const brokers = requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS');
const kafka = new Kafka({ clientId: `sharing-test-${run}`, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const SIGNING_KEY = `signing-key-${run}`;
let producer: Producer;

interface Lake {
  kind: 'local' | 's3';
  dir: string;
  config: string;
  topic: string;
  cloud: Deployable;
  api: string;
  seq: number;
}
const lakes: Lake[] = [];

function s3Settings(): S3Settings {
  return {
    endpoint: requiredEnv('ECHOLAKE_TEST_S3_ENDPOINT'),
    region: requiredEnv('ECHOLAKE_TEST_S3_REGION'),
    accessKeyId: requiredEnv('ECHOLAKE_TEST_S3_ACCESS_KEY'),
    secretAccessKey: requiredEnv('ECHOLAKE_TEST_S3_SECRET_KEY'),
    forcePathStyle: true,
  };
}

/** A cloud process with only the lake and sharing roles, on its own topic and lake root. */
async function startLake(kind: Lake['kind']): Promise<Lake> {
  const dir = mkdtempSync(join(tmpdir(), `echolake-sharing-${kind}-`));
  const topic = `readings-sharing-${kind}-${run}`;
  let root = join(dir, 'lake');
  let s3 = {};
  if (kind === 's3') {
    const bucket = `sharing-${run}`;
    await s3Client(s3Settings()).send(new CreateBucketCommand({ Bucket: bucket }));
    root = `s3://${bucket}/lake`;
    s3 = s3Settings();
  }
  const config = join(dir, 'cloud.yaml');
  writeFileSync(
    config,
    stringify({
      roles: { ingest: false, lake: true, alerts: false, sharing: true },
      sites: { file: await writeTestRegistry(dir, [`site-${run}`]) },
      kafka: { brokers: brokers.split(','), topics: { readings: topic, deadLetter: `dlq-sharing-${kind}-${run}` } },
      api: { port: 0 },
      lake: { root, groupId: `lake-sharing-${kind}-${run}`, maxAgeMs: 200, s3 },
      sharing: {
        recipientsFile: join(dir, 'recipients.yaml'),
        urlSigningKey: SIGNING_KEY,
        shares: [
          { name: 'plant', schemas: [{ name: 'lake', tables: [{ name: 'readings', table: 'readings' }] }] },
          { name: 'office', schemas: [{ name: 'lake', tables: [{ name: 'readings', table: 'readings' }] }] },
        ],
      },
    }),
  );
  const cloud = new Deployable(`cloud-${kind}`, 'cloud/main.ts', ['--config', config], {});
  await cloud.waitFor((e) => e.msg === 'lake writer started', 60_000, 'the lake writer');
  const api = String((await cloud.waitFor((e) => e.msg === 'cloud API listening', 60_000, 'the API')).url);
  const lake = { kind, dir, config, topic, cloud, api, seq: 0 };
  lakes.push(lake);
  return lake;
}

before(async () => {
  producer = kafka.producer({ idempotent: true });
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  for (const lake of lakes) assert.equal(await lake.cloud.stop(), 0, `the ${lake.kind} cloud exits cleanly`);
});

const committedRows = (events: LogEvent[]) => events.filter((e) => e.msg === 'readings committed to delta').reduce((sum, e) => sum + Number(e.rows), 0);

/** Sends `count` readings to the lake's topic and waits until the lake committed them all. */
async function produce(lake: Lake, count: number): Promise<void> {
  const readings: Reading[] = Array.from({ length: count }, () => {
    lake.seq += 1;
    const seq = lake.seq;
    return { v: 1, siteId: `site-${run}`, seq, ...aircon(seq % 3, { ts: new Date(Date.UTC(2026, 10, 23 + (seq % 2), 0, 0, seq)).toISOString() }) };
  });
  await producer.send({ topic: lake.topic, acks: -1, messages: readings.map((r) => ({ key: r.deviceId, value: JSON.stringify(r) })) });
  await lake.cloud.waitFor(() => committedRows(lake.cloud.events) >= lake.seq, 60_000, `${lake.seq} rows committed`);
}

/** `echolake-cloud share-profile` as an operator runs it; returns the profile file's path. */
async function shareProfile(lake: Lake, recipient: string, share: string): Promise<string> {
  const out = join(lake.dir, `${recipient}.share`);
  await run$(process.execPath, ['--import', 'tsx', 'cloud/main.ts', 'share-profile', recipient, '--share', share, '--days', '2', '--endpoint', `${lake.api}/delta-sharing`, '--out', out, '--config', lake.config]);
  return out;
}

interface Loaded {
  rows?: Array<{ siteId: string; seq: number; roomTemperature: number; date: string; ts: string }>;
  error?: number;
  tables?: string[];
}

/** The analyst's side: load_as_pandas on `profile#plant.lake.readings` (at a version if given), in the client's own venv. */
async function loadAsPandas(profile: string, table = 'plant.lake.readings', version?: number, onDate?: string): Promise<Loaded> {
  const script = `
import json, sys, requests, delta_sharing
profile, table, version, on_date = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
hints = None if on_date == "" else json.dumps({"op": "equal", "children": [{"op": "column", "name": "date", "valueType": "date"}, {"op": "literal", "value": on_date, "valueType": "date"}]})
try:
    client = delta_sharing.SharingClient(profile)
    tables = sorted(f"{t.share}.{t.schema}.{t.name}" for t in client.list_all_tables())
    df = delta_sharing.load_as_pandas(profile + "#" + table, version=None if version == "" else int(version), jsonPredicateHints=hints)
    df = df.sort_values("seq")
    rows = [{"siteId": r.siteId, "seq": int(r.seq), "roomTemperature": float(r.roomTemperature), "date": str(r.date), "ts": r.ts.isoformat()} for r in df.itertuples()]
    print(json.dumps({"rows": rows, "tables": tables}))
except requests.HTTPError as err:
    print(json.dumps({"error": err.response.status_code}))
`;
  try {
    const { stdout } = await run$(requiredEnv('ECHOLAKE_TEST_SHARING_PYTHON'), ['-c', script, profile, table, version === undefined ? '' : String(version), onDate ?? ''], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Loaded;
  } catch (err) {
    throw new Error(`the delta-sharing client failed: ${(err as Error).message}\n${(err as { stderr?: string }).stderr ?? ''}`);
  }
}

const seqs = (loaded: Loaded) => (loaded.rows ?? []).map((row) => row.seq);
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const tokenOf = (profile: string) => (JSON.parse(readFileSync(profile, 'utf8')) as { bearerToken: string }).bearerToken;

async function tableVersion(lake: Lake, token: string): Promise<number> {
  const response = await fetch(`${lake.api}/delta-sharing/shares/plant/schemas/lake/tables/readings/version`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  return Number(response.headers.get('delta-table-version'));
}

for (const kind of ['local', 's3'] as const) {
  test(`${kind} lake: load_as_pandas returns exactly the table's rows, and a query at an older version the older rows`, async () => {
    const lake = await startLake(kind);
    await produce(lake, 30);
    const profile = await shareProfile(lake, 'analyst', 'plant');
    const written = JSON.parse(readFileSync(profile, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(written).sort(), ['bearerToken', 'endpoint', 'expirationTime', 'shareCredentialsVersion']);
    assert.equal(written.endpoint, `${lake.api}/delta-sharing`);
    assert.ok(!readFileSync(join(lake.dir, 'recipients.yaml'), 'utf8').includes(String(written.bearerToken)), 'the server keeps only the hash');

    const first = await loadAsPandas(profile);
    assert.deepEqual(first.tables, ['plant.lake.readings'], 'the analyst sees only the granted share');
    assert.deepEqual(seqs(first), oneTo(30), 'every row once, nothing else');
    const row = first.rows?.find((r) => r.seq === 4);
    assert.equal(row?.siteId, `site-${run}`);
    assert.equal(row?.roomTemperature, 27, 'aircon(1) reports 27 °C');
    assert.equal(row?.date, '2026-11-23');
    assert.equal(row?.ts, '2026-11-23T00:00:04+00:00');

    const before = await tableVersion(lake, tokenOf(profile));
    await produce(lake, 20);
    assert.ok((await tableVersion(lake, tokenOf(profile))) > before, 'more commits');
    assert.deepEqual(seqs(await loadAsPandas(profile)), oneTo(50));
    assert.deepEqual(seqs(await loadAsPandas(profile, 'plant.lake.readings', before)), oneTo(30), 'the older version\'s rows');
    const oneDay = await loadAsPandas(profile, 'plant.lake.readings', undefined, '2026-11-24');
    assert.deepEqual(seqs(oneDay), oneTo(50).filter((seq) => seq % 2 === 1), 'a partition predicate: that day\'s rows');
  });
}

test('a token for another share gets 403, an expired token 401, an unknown table 404', async () => {
  const lake = lakes.find((l) => l.kind === 'local') ?? (await startLake('local'));
  if (lake.seq === 0) await produce(lake, 5);
  const office = await shareProfile(lake, 'office-analyst', 'office');
  assert.deepEqual(await loadAsPandas(office), { error: 403 });
  assert.equal(seqs(await loadAsPandas(office, 'office.lake.readings')).length, lake.seq, 'the same table through the share it was granted');
  assert.deepEqual(await loadAsPandas(office, 'office.lake.nothing'), { error: 404 });

  const expired = issueToken(join(lake.dir, 'recipients.yaml'), 'former', { shares: ['plant'], expiresAt: new Date(Date.now() - 60_000) });
  const profile = join(lake.dir, 'former.share');
  // No expirationTime in this profile: the server, not the client, must refuse the token.
  writeFileSync(profile, JSON.stringify({ shareCredentialsVersion: 1, endpoint: `${lake.api}/delta-sharing`, bearerToken: expired.token }));
  assert.deepEqual(await loadAsPandas(profile), { error: 401 });
  const response = await fetch(`${lake.api}/delta-sharing/shares`, { headers: { authorization: `Bearer ${expired.token}` } });
  assert.equal(response.status, 401);
  assert.equal(((await response.json()) as { errorCode: string }).errorCode, 'UNAUTHENTICATED');
});

test('a local table\'s file URL works as given; tampered or expired it is refused', async () => {
  const lake = lakes.find((l) => l.kind === 'local') ?? (await startLake('local'));
  if (lake.seq === 0) await produce(lake, 5);
  const token = tokenOf(await shareProfile(lake, 'url-checker', 'plant'));
  const answer = await fetch(`${lake.api}/delta-sharing/shares/plant/schemas/lake/tables/readings/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  const files = (await answer.text()).trim().split('\n').slice(2).map((line) => (JSON.parse(line) as { file: { url: string; size: number } }).file);
  const file = files[0];
  assert.ok(file);
  const good = await fetch(file.url);
  assert.equal(good.status, 200);
  assert.equal((await good.arrayBuffer()).byteLength, file.size);

  const url = new URL(file.url);
  const tamperedSig = new URL(url);
  tamperedSig.searchParams.set('sig', `${url.searchParams.get('sig')?.slice(1) ?? ''}x`);
  const laterExpiry = new URL(url);
  laterExpiry.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 86_400_000));
  const otherFile = new URL(url);
  otherFile.pathname = url.pathname.replace(/[^/]+$/, 'part-forged.parquet');
  for (const tampered of [tamperedSig, laterExpiry, otherFile]) {
    const response = await fetch(tampered);
    assert.equal(response.status, 403, tampered.href);
    assert.equal(((await response.json()) as { errorCode: string }).errorCode, 'PERMISSION_DENIED');
  }
  // Signed with the server's key but already past its expiry (URLs live sharing.urlExpirySeconds, ≥ 60 s).
  const path = decodeURIComponent(url.pathname.replace('/delta-sharing/files/', ''));
  const expiresAt = Date.now() - 1000;
  const expired = new URL(url);
  expired.searchParams.set('expires', String(expiresAt));
  expired.searchParams.set('sig', new UrlSigner(SIGNING_KEY).sign({ path, size: file.size, expiresAt }));
  const response = await fetch(expired);
  assert.equal(response.status, 403);
  assert.match(((await response.json()) as { message: string }).message, /expired/);
});
