import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { stringify } from 'yaml';
import type { Alert } from '../../../cloud/alerts/alert.js';
import { TopicFollower } from '../../../cloud/kafka/follower.js';
import { LogStore } from '../../../cloud/lake/delta/log-store.js';
import { Snapshot } from '../../../cloud/lake/delta/snapshot.js';
import { LocalObjectStore } from '../../../cloud/lake/storage/local-store.js';
import { writeRegistryFile } from '../../../cloud/sites/file-registry.js';
import type { Reading } from '../../../shared/reading.js';
import { testSite } from '../../support/cloud-sites.js';
import { Deployable } from '../../support/deployable.js';
import { requiredEnv } from '../../support/env.js';
import { python } from '../../support/python.js';
import { waitFor } from '../../support/wait.js';

// The alerts role as it runs in production (cloud/main.ts, its own process) on real Kafka: each
// incident fires once and resolves once on the topic, at the webhook, in the API and in the lake's
// alerts table (a lake role in a process of its own, read back by delta-rs); a silence holds back
// notifications only; SIGKILL mid-window and a restart, two instances with one killed, or the lake
// SIGKILLed and restarted lose and double nothing.
const run = randomUUID().slice(0, 8);
const dir = mkdtempSync(join(tmpdir(), 'echolake-alerts-'));
const brokers = requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS');
const topics = { readings: `readings-${run}`, alerts: `alerts-${run}`, changelog: `alerts-state-${run}`, silences: `silences-${run}`, siteReadings: `site-readings-${run}`, siteChangelog: `site-state-${run}` };
const siteId = `site-${run}`;
const token = 'operator-token-for-the-alerts-test';
const E = Date.UTC(2026, 0, 1);
const DEVICES = { d1: 0, d2: 1 } as const; // device → readings partition

const kafka = new Kafka({ clientId: 'alerts-role-test', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
let producer: Producer;
const onTopic: Alert[] = [];
const follower = new TopicFollower(kafka, { topic: topics.alerts, groupPrefix: `test-${run}` }, (m) => onTopic.push(JSON.parse(String(m.value)) as Alert));
const webhook: Alert[] = [];
let webhookRequests = 0;
let receiver: Server;
const instances: Deployable[] = [];
const lakes: Deployable[] = [];
const alertsTable = join(dir, 'lake', 'alerts');
let seq = 0;

function configFile(webhookUrl: string): string {
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(
    rulesFile,
    stringify({
      rules: [
        { name: 'hot', type: 'window', summary: 'too hot', severity: 'warning', scope: 'device', window: { size: '10s' }, aggregate: 'avg', property: 'roomTemperature', condition: { op: '>', threshold: { site: 'roomTemperatureMax', default: 40 } }, resolve: { threshold: 28 } },
        { name: 'site-hot', type: 'window', summary: 'site too hot', severity: 'warning', scope: 'site', window: { size: '10s' }, aggregate: 'avg', property: 'roomTemperature', condition: { op: '>', threshold: 30 }, resolve: { threshold: 28 } },
        { name: 'fault', type: 'instant', summary: 'fault', severity: 'critical', scope: 'device', property: 'faultStatus', condition: { op: '==', value: true } },
      ],
    }),
  );
  const file = join(dir, 'cloud.yaml');
  writeFileSync(
    file,
    stringify({
      roles: { ingest: false, lake: false, alerts: true },
      sites: { file: join(dir, 'sites.yaml') },
      kafka: { brokers: brokers.split(','), partitions: 2, topics: { readings: topics.readings, deadLetter: `dlq-${run}` } },
      api: { port: 0, operators: [{ name: 'ops', tokenSha256: createHash('sha256').update(token).digest('hex') }] },
      // The lake runs in processes of its own (startLake); records wait 8 s for their commit, so a SIGKILL finds some waiting.
      lake: { root: join(dir, 'lake'), groupId: `lake-${run}`, maxAgeMs: 8000, checkpointInterval: 3 },
      alerts: {
        rulesFile,
        groupId: `alerts-${run}`,
        transactionalIdPrefix: `alerts-${run}`,
        allowedLatenessMs: 2000,
        sessionTimeoutMs: 6000,
        topics: { alerts: topics.alerts, changelog: topics.changelog, silences: topics.silences, siteReadings: topics.siteReadings, siteChangelog: topics.siteChangelog },
        webhook: { url: webhookUrl, groupId: `webhook-${run}`, backoffMs: 50 },
      },
    }),
  );
  return file;
}

let config: string;

function startInstance(): Deployable {
  const cloud = new Deployable(`cloud-${instances.length}`, 'cloud/main.ts', ['--config', config], {});
  instances.push(cloud);
  return cloud;
}

/** The lake role alone (its alerts table among its tables), as a deployment of its own. */
function startLake(): Deployable {
  const lake = new Deployable(`lake-${lakes.length}`, 'cloud/main.ts', ['--config', config, '--set', 'roles.alerts=false', '--set', 'roles.lake=true', '--set', 'api.enabled=false'], {});
  lakes.push(lake);
  return lake;
}

/** Rows in the alerts table by our own log reader (the sum of the live files' numRecords). */
async function alertsTableRows(): Promise<number> {
  const snapshot = await Snapshot.load(new LogStore(new LocalObjectStore(alertsTable)));
  return [...(snapshot?.files.values() ?? [])].reduce((sum, add) => sum + (JSON.parse(add.stats ?? '{"numRecords":0}') as { numRecords: number }).numRecords, 0);
}

interface AlertTableRow {
  id: string;
  state: string;
  rule: string;
  deviceId: string | null;
  siteName: string;
  latitude: number | null;
  longitude: number | null;
  startsAt: string;
  endsAt: string | null;
  windowStart: string | null;
  value: number | null;
  valueJson: string;
  threshold: number | null;
  thresholdJson: string;
  kafkaOffset: number;
  date: string;
}

/** The alerts table as delta-rs reads it: its rows (timestamps as ISO UTC) and the Arrow types of its columns. */
async function readAlertsTable(): Promise<{ version: number; types: Record<string, string>; rows: AlertTableRow[] }> {
  return python(
    `
import json, sys
from deltalake import DeltaTable
table = DeltaTable(sys.argv[1])
frame = table.to_pandas()
for column in ["startsAt", "endsAt", "windowStart", "windowEnd"]:
    frame[column] = frame[column].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
frame["date"] = frame["date"].astype(str)
types = {field.name: str(field.type) for field in table.to_pyarrow_dataset().schema}
print(json.dumps({"version": table.version(), "types": types, "rows": json.loads(frame.to_json(orient="records"))}))
`,
    alertsTable,
  );
}

async function apiUrl(cloud: Deployable): Promise<string> {
  return String((await cloud.waitFor((e) => e.msg === 'cloud API listening', 60_000, 'the API')).url);
}

function reading(device: keyof typeof DEVICES, second: number, properties: Reading['properties']): Reading {
  seq += 1;
  return { v: 1, siteId, seq, deviceId: device, eoj: '013001', address: '127.0.0.2', ts: new Date(E + second * 1000).toISOString(), kind: 'poll', properties, raw: {} };
}

/** Readings of a device every 2 s of event time from `from` to `to` (exclusive). */
function series(device: keyof typeof DEVICES, from: number, to: number, properties: Reading['properties']): Reading[] {
  const out: Reading[] = [];
  for (let s = from; s < to; s += 2) out.push(reading(device, s, properties));
  return out;
}

async function send(readings: Reading[]): Promise<void> {
  await producer.send({ topic: topics.readings, acks: -1, messages: readings.map((r) => ({ key: r.deviceId, partition: DEVICES[r.deviceId as keyof typeof DEVICES], value: JSON.stringify(r) })) });
}

/** Resolves once the alert engines have committed (state and offsets together) everything sent so far. */
async function committed(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topics.readings);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [offsets] = await admin.fetchOffsets({ groupId: `alerts-${run}`, topics: [topics.readings] });
      const behind = ends.filter((end) => Number(offsets?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1) < Number(end.high));
      if (behind.length === 0) return;
      if (Date.now() > deadline) throw new Error(`the alert engines did not commit partitions ${behind.map((b) => b.partition).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/** The cloud's /metrics once `pattern` shows in it. */
async function metricsMatching(api: string, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await (await fetch(`${api}/metrics`)).text();
    if (pattern.test(text) || Date.now() > deadline) return text;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const pairs = (alerts: Alert[]) => alerts.map((a) => `${a.rule}/${a.deviceId}/${a.state}@${a.startsAt.slice(11, 19)}`);

async function topicHas(count: number, what: string): Promise<void> {
  try {
    await waitFor(what, () => onTopic.length >= count, 60_000);
  } catch (err) {
    const running = instances.filter((cloud) => cloud.pid !== undefined).map((cloud) => `${cloud.name}:\n${cloud.tail(80)}`);
    throw new Error(`${(err as Error).message}; on the topic: ${pairs(onTopic).join(', ')}\n${running.join('\n')}`);
  }
}

before(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      webhookRequests += 1;
      // Every third request fails: the notifier must retry, and never deliver twice.
      if (webhookRequests % 3 === 1) {
        response.writeHead(503).end();
        return;
      }
      webhook.push(JSON.parse(body) as Alert);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  config = configFile(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`);
  writeRegistryFile(join(dir, 'sites.yaml'), { sites: [await testSite(siteId, { name: 'Osaka office', location: { latitude: 34.69, longitude: 135.5 }, thresholds: { roomTemperatureMax: 30 } })] });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topics.readings, numPartitions: 2 }] });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
});

after(async () => {
  for (const cloud of [...instances, ...lakes]) await cloud.stop('SIGKILL');
  await producer?.disconnect();
  await follower.stop().catch(() => undefined);
  receiver?.close();
});

test('incidents fire once and resolve once on the topic, at the webhook and in the API; a silence holds back only the notification', async () => {
  // The lake starts first: the alerts topic is not there yet, and the lake waits for it.
  const lake = startLake();
  await lake.waitFor((e) => e.msg === 'the alerts topic does not exist yet (the alerts role creates it); the alerts table waits for it', 60_000, 'the lake to wait for the alerts topic');
  const cloud = startInstance();
  const api = await apiUrl(cloud);
  await cloud.waitFor((e) => e.msg === 'alert engine started', 60_000, 'the alert engine');
  await follower.start();

  // d1 too hot (site's roomTemperatureMax 30 overrides the rule's 40) for 20 s, then cool; d2 reports a fault for 6 s.
  await send([...series('d1', 0, 20, { roomTemperature: 32 }), ...series('d2', 0, 4, { faultStatus: false }), ...series('d2', 4, 10, { faultStatus: true })]);
  await send([...series('d1', 20, 40, { roomTemperature: 25 }), ...series('d2', 10, 40, { faultStatus: false })]);
  await topicHas(6, 'three incidents fired and resolved');
  await waitFor('the webhook to get all six', () => webhook.length >= 6, 30_000);

  // site-hot averages the site's devices across both readings partitions (d2 reports no temperature).
  assert.deepEqual(pairs(onTopic).sort(), [
    'fault/d2/firing@00:00:04',
    'fault/d2/resolved@00:00:04',
    'hot/d1/firing@00:00:00',
    'hot/d1/resolved@00:00:00',
    'site-hot/null/firing@00:00:00',
    'site-hot/null/resolved@00:00:00',
  ]);
  const hot = onTopic.find((a) => a.rule === 'hot' && a.state === 'firing')!;
  assert.deepEqual(hot.site, { name: 'Osaka office', timeZone: 'Asia/Tokyo', location: { latitude: 34.69, longitude: 135.5 } });
  assert.equal(hot.threshold, 30);
  assert.deepEqual(pairs(webhook).sort(), pairs(onTopic).sort(), 'each notified once, despite the failed requests');
  assert.ok(webhookRequests > webhook.length, 'some requests failed and were retried');

  const unauthorized = await fetch(`${api}/api/v1/alerts`);
  assert.equal(unauthorized.status, 401);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const listed = (await (await fetch(`${api}/api/v1/alerts?state=resolved&site=${siteId}`, { headers })).json()) as { alerts: Array<Alert & { silenced: boolean }> };
  assert.deepEqual(listed.alerts.map((a) => `${a.rule}/${a.state}/${a.silenced}`).sort(), ['fault/resolved/false', 'hot/resolved/false', 'site-hot/resolved/false']);

  // Silence the fault rule at this site; the next fault is raised and listed, but nobody is called.
  const silenced = await fetch(`${api}/api/v1/silences`, { method: 'POST', headers, body: JSON.stringify({ rule: 'fault', siteId, until: new Date(Date.now() + 3_600_000).toISOString(), comment: 'technician on site' }) });
  assert.equal(silenced.status, 201);
  const bad = await fetch(`${api}/api/v1/silences`, { method: 'POST', headers, body: JSON.stringify({ until: new Date(Date.now() + 60_000).toISOString(), comment: 'no matcher' }) });
  assert.equal(bad.status, 400);
  await send([...series('d2', 40, 46, { faultStatus: true }), ...series('d2', 46, 50, { faultStatus: false })]);
  await topicHas(8, 'the silenced fault fired and resolved');
  const metrics = await metricsMatching(api, /echolake_alerts_notifications_total\{outcome="silenced"\} 2/);
  assert.match(metrics, /echolake_alerts_notifications_total\{outcome="silenced"\} 2/);
  assert.equal(webhook.length, 6, 'no notification for the silenced alert');
  const firing = (await (await fetch(`${api}/api/v1/alerts?rule=fault`, { headers })).json()) as { alerts: Array<Alert & { silenced: boolean }> };
  assert.equal(firing.alerts[0]?.silenced, true);
  assert.equal(firing.alerts[0]?.startsAt, new Date(E + 40_000).toISOString());
  assert.match(metrics, /echolake_alerts_total\{state="firing",rule="hot",severity="warning"\} 1/);
  const counted = await metricsMatching(api, /echolake_alerts_readings_total 90\n/);
  assert.match(counted, /echolake_alerts_readings_total 90\n/, 'every reading taken once by the device engines, and once on the site stream');
  assert.match(counted, /echolake_alerts_duplicate_readings_total 0\n/, 'nothing read twice');
});

test('SIGKILL mid-window and a restart: the window continues from the changelog, one firing and one resolved', async () => {
  const [first] = instances;
  await send(series('d1', 60, 65, { roomTemperature: 35 }));
  await committed();
  assert.equal(await first!.stop('SIGKILL'), null, 'killed, no orderly stop');
  const second = startInstance();
  await second.waitFor((e) => e.msg === 'alert engine started', 60_000, 'the restarted engine');
  await send([...series('d1', 66, 70, { roomTemperature: 35 }), ...series('d1', 70, 90, { roomTemperature: 20 })]);
  await topicHas(12, 'the incident across the restart');
  // The lake dies too, while the new records wait for their commit; its successor continues from the table's txns.
  await lakes[0]!.waitFor((e) => e.msg === 'alerts committed to delta', 60_000, 'the lake to commit alerts');
  assert.ok((await alertsTableRows()) < onTopic.length, 'some records are not in the table yet when the lake is killed');
  assert.equal(await lakes[0]!.stop('SIGKILL'), null, 'the lake killed, no orderly stop');
  startLake();
  const incident = onTopic.filter((a) => a.rule === 'hot' && a.startsAt === new Date(E + 60_000).toISOString());
  assert.deepEqual(incident.map((a) => [a.state, a.value]), [['firing', 35], ['resolved', 20]], 'one firing with the whole window’s average (35), one resolved');
  const site = onTopic.filter((a) => a.rule === 'site-hot' && a.startsAt === new Date(E + 60_000).toISOString());
  assert.deepEqual(site.map((a) => [a.state, a.value]), [['firing', 35], ['resolved', 20]]);
});

test('two instances split the partitions; killing one hands its partition over with nothing lost or doubled', async () => {
  const survivor = instances[1]!;
  const joining = startInstance();
  await joining.waitFor((e) => e.msg === 'partitions opened', 60_000, 'the second instance to take a partition');
  await survivor.waitFor((e) => e.msg === 'partitions assigned' && Array.isArray(e.partitions) && e.partitions.length === 1, 60_000, 'the first instance to give one up');
  await send([...series('d1', 120, 126, { roomTemperature: 33 }), ...series('d2', 120, 126, { roomTemperature: 33 })]);
  await committed();
  assert.equal(await joining.stop('SIGKILL'), null);
  await send([...series('d1', 126, 130, { roomTemperature: 33 }), ...series('d2', 126, 130, { roomTemperature: 33 })]);
  await send([...series('d1', 130, 150, { roomTemperature: 20 }), ...series('d2', 130, 150, { roomTemperature: 20 })]);
  await topicHas(18, 'the incidents across the kill');
  await committed();
  await follower.caughtUp(30_000);
  const incident = onTopic.filter((a) => a.startsAt === new Date(E + 120_000).toISOString());
  assert.deepEqual(pairs(incident).sort(), [
    'hot/d1/firing@00:02:00',
    'hot/d1/resolved@00:02:00',
    'hot/d2/firing@00:02:00',
    'hot/d2/resolved@00:02:00',
    'site-hot/null/firing@00:02:00',
    'site-hot/null/resolved@00:02:00',
  ]);
  const records = onTopic.map((a) => `${a.id}/${a.state}`);
  assert.equal(new Set(records).size, records.length, 'no record twice on the topic in the whole run');
  assert.equal(onTopic.length, 18);

  // SIGHUP reloads the rules: a broken file is refused (the rules in force stay), a good one taken.
  const rulesFile = join(dir, 'rules.yaml');
  const good = readFileSync(rulesFile, 'utf8');
  writeFileSync(rulesFile, good.replace('aggregate: avg', 'aggregate: median'));
  process.kill(survivor.pid!, 'SIGHUP');
  const refused = await survivor.waitFor((e) => e.msg === 'alert rules not reloaded: the file has problems; the previous rules stay', 30_000, 'the refused reload');
  assert.match(JSON.stringify(refused.err), /rule \\"hot\\" \(rules\[0\]\): aggregate must be equal to one of the allowed values/);
  writeFileSync(rulesFile, good);
  process.kill(survivor.pid!, 'SIGHUP');
  await survivor.waitFor((e) => e.msg === 'alert rules reloaded', 30_000, 'the reload');
  const stopped = await survivor.stop();
  assert.equal(stopped, 0, `the survivor stops cleanly\n${survivor.tail(25)}`);
});

test('the lake wrote every alert record into the alerts table once, across its SIGKILL, as delta-rs reads it', async () => {
  const deadline = Date.now() + 60_000;
  while ((await alertsTableRows()) < onTopic.length) {
    if (Date.now() > deadline) throw new Error(`the alerts table holds ${await alertsTableRows()} of ${onTopic.length} records\n${lakes.at(-1)?.tail(40) ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // Another SIGKILL and restart once everything is in: the new lake starts at the txns and adds nothing.
  assert.equal(await lakes.at(-1)!.stop('SIGKILL'), null);
  const last = startLake();
  await last.waitFor((e) => e.msg === 'partitions opened', 60_000, 'the last lake to open the alerts partitions');
  await new Promise((resolve) => setTimeout(resolve, 10_000)); // longer than lake.maxAgeMs: a replayed record would be committed by now

  const { types, rows } = await readAlertsTable();
  const key = (a: { id: string; state: string }) => `${a.id}/${a.state}`;
  assert.equal(rows.length, onTopic.length, 'one row per record of the topic');
  assert.deepEqual(rows.map(key).sort(), onTopic.map(key).sort(), 'the same records as the topic, none twice');
  const byId = new Map<string, string[]>();
  for (const row of rows) byId.set(row.id, [...(byId.get(row.id) ?? []), row.state]);
  for (const [id, states] of byId) assert.deepEqual(states.sort(), ['firing', 'resolved'], `incident ${id}: one firing and one resolved row`);
  assert.equal(byId.size, 9, 'nine incidents in the whole run');

  const topicHot = onTopic.find((a) => a.rule === 'hot' && a.state === 'firing' && a.startsAt === new Date(E).toISOString())!;
  const hot = rows.find((row) => row.id === topicHot.id && row.state === 'firing')!;
  assert.deepEqual(
    { deviceId: hot.deviceId, siteName: hot.siteName, latitude: hot.latitude, longitude: hot.longitude, startsAt: hot.startsAt, endsAt: hot.endsAt, windowStart: hot.windowStart, value: hot.value, threshold: hot.threshold, date: hot.date },
    { deviceId: 'd1', siteName: 'Osaka office', latitude: 34.69, longitude: 135.5, startsAt: topicHot.startsAt, endsAt: null, windowStart: topicHot.windowStart, value: topicHot.value, threshold: 30, date: '2026-01-01' },
  );
  const fault = rows.find((row) => row.rule === 'fault' && row.state === 'firing')!;
  assert.deepEqual([fault.value, fault.valueJson, fault.threshold, fault.thresholdJson], [null, 'true', null, 'true'], 'a boolean value is kept as JSON');
  assert.equal(types.startsAt, 'timestamp[us, tz=UTC]');
  assert.equal(types.kafkaOffset, 'int64');
  assert.equal(types.value, 'double');
});

test('a rules file with problems stops the start with exit code 2, naming the rule and the field', async () => {
  const rulesFile = join(dir, 'bad-rules.yaml');
  writeFileSync(rulesFile, 'rules:\n  - { name: hot, type: window, summary: s, severity: loud, scope: device, window: { size: 5m }, aggregate: avg, property: roomTemperature, condition: { op: ">", threshold: 30 } }\n');
  const cloud = new Deployable('cloud-bad-rules', 'cloud/main.ts', ['--config', config, '--set', `alerts.rulesFile=${rulesFile}`], {});
  assert.equal(await cloud.exited, 2);
  assert.match(cloud.stderr.join(''), /alerts\.rulesFile .*bad-rules\.yaml: rule "hot" \(rules\[0\]\): severity must be equal to one of the allowed values: info, warning, critical/);
});
