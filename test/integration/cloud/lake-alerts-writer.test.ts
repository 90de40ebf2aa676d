import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { alertId, type Alert } from '../../../cloud/alerts/alert.js';
import { AlertsTableWriter } from '../../../cloud/lake/alerts-writer.js';
import { LogStore } from '../../../cloud/lake/delta/log-store.js';
import { Snapshot } from '../../../cloud/lake/delta/snapshot.js';
import { LocalObjectStore } from '../../../cloud/lake/storage/local-store.js';
import { silentLogger } from '../../../shared/log.js';
import { requiredEnv } from '../../support/env.js';
import { python } from '../../support/python.js';

// The lake's alerts-topic writer on real Kafka, in this process: it waits for a topic that does not
// exist yet; it takes committed records only (an aborted transaction of the alerts role never
// becomes a row), sends what is not an alert to the dead-letter table, and a second writer after
// the first adds nothing: the table's txns, not Kafka's offsets, decide.
const run = randomUUID().slice(0, 8);
const topic = `alerts-${run}`;
const root = mkdtempSync(join(tmpdir(), 'echolake-lake-alerts-'));
const kafka = new Kafka({ clientId: `lake-alerts-${run}`, brokers: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
const fatal: Error[] = [];
let transactional: Producer;
let plain: Producer;

function writer(): AlertsTableWriter {
  return new AlertsTableWriter(
    kafka,
    { alerts: new LocalObjectStore(join(root, 'alerts')), deadLetters: new LocalObjectStore(join(root, 'dead_letters')) },
    { topic, groupId: `lake-${run}-alerts`, appId: 'echolake-lake', maxRecords: 1000, maxAgeMs: 300, checkpointInterval: 2, sessionTimeoutMs: 6000, topicCheckMs: 200, onFatal: (err) => fatal.push(err) },
    silentLogger(),
    'test',
  );
}

const alert = (name: string, state: Alert['state']): Alert => ({
  v: 1,
  id: alertId('hot', name, Date.UTC(2026, 0, 1)),
  state,
  rule: 'hot',
  ruleType: 'window',
  severity: 'warning',
  summary: 'too hot',
  scope: 'device',
  siteId: 's1',
  deviceId: name,
  site: { name: 'S1', timeZone: 'UTC', location: { latitude: 35, longitude: 139 } },
  cause: 'threshold',
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: state === 'firing' ? null : '2026-01-01T00:05:00.000Z',
  windowStart: '2026-01-01T00:00:00.000Z',
  windowEnd: '2026-01-01T00:01:00.000Z',
  value: state === 'firing' ? 31.5 : 27,
  threshold: state === 'firing' ? 30 : 28,
});

/** The alerts role's way: records in a transaction, committed or aborted as one. */
async function inTransaction(alerts: Alert[], outcome: 'commit' | 'abort'): Promise<void> {
  const transaction = await transactional.transaction();
  await transaction.send({ topic, messages: alerts.map((a, i) => ({ key: a.id, value: JSON.stringify(a), partition: i % 2 })) });
  await (outcome === 'commit' ? transaction.commit() : transaction.abort());
}

async function rowsIn(table: string): Promise<number> {
  const snapshot = await Snapshot.load(new LogStore(new LocalObjectStore(join(root, table))));
  return [...(snapshot?.files.values() ?? [])].reduce((sum, add) => sum + (JSON.parse(add.stats ?? '{"numRecords":0}') as { numRecords: number }).numRecords, 0);
}

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await probe())) {
    const [failure] = fatal;
    if (failure !== undefined) throw failure;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

before(async () => {
  transactional = kafka.producer({ transactionalId: `alerts-role-${run}`, idempotent: true, maxInFlightRequests: 1 });
  plain = kafka.producer();
  await Promise.all([transactional.connect(), plain.connect()]);
});

after(async () => {
  await Promise.all([transactional?.disconnect(), plain?.disconnect()]);
});

test('committed alert records go into the alerts table once; aborted ones never; a record that is no alert goes to the dead-letter table', async () => {
  const first = writer();
  await first.start();
  assert.equal(existsSync(join(root, 'alerts')), false, 'no table before the topic exists');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
  await admin.disconnect();

  await inTransaction([alert('d1', 'firing'), alert('d2', 'firing')], 'commit');
  await inTransaction([alert('d3', 'firing')], 'abort');
  await plain.send({ topic, messages: [{ key: 'x', value: '{"v":1,"id":"broken"', partition: 0 }] });
  await inTransaction([alert('d1', 'resolved'), alert('d2', 'resolved')], 'commit');
  await until('four alerts and one dead letter', async () => (await rowsIn('alerts')) === 4 && (await rowsIn('dead_letters')) === 1);
  await first.stop();

  // A second writer in the same group starts at the table's txns: nothing is added twice.
  const second = writer();
  await second.start();
  await inTransaction([alert('d4', 'firing')], 'commit');
  await until('the fifth alert', async () => (await rowsIn('alerts')) === 5);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await second.stop();
  assert.deepEqual(fatal, []);

  const read = await python<{ alerts: Array<{ deviceId: string; state: string; kafkaPartition: number }>; letters: Array<{ topic: string; reason: string }> }>(
    `
import json, sys
from deltalake import DeltaTable
alerts = DeltaTable(sys.argv[1]).to_pandas()[["deviceId", "state", "kafkaPartition"]].sort_values(["deviceId", "state"])
letters = DeltaTable(sys.argv[2]).to_pandas()[["topic", "reason"]]
print(json.dumps({"alerts": alerts.to_dict(orient="records"), "letters": letters.to_dict(orient="records")}))
`,
    join(root, 'alerts'),
    join(root, 'dead_letters'),
  );
  assert.deepEqual(
    read.alerts.map((a) => `${a.deviceId}/${a.state}`),
    ['d1/firing', 'd1/resolved', 'd2/firing', 'd2/resolved', 'd4/firing'],
    'the aborted d3 is not there, nothing is twice',
  );
  assert.equal(read.letters.length, 1);
  assert.equal(read.letters[0]?.topic, topic);
  assert.match(read.letters[0]?.reason ?? '', /^unreadable: not JSON/);
  const snapshot = await Snapshot.load(new LogStore(new LocalObjectStore(join(root, 'alerts'))));
  assert.ok(snapshot?.txns.has(`echolake-lake-${topic}-0`) && snapshot.txns.has(`echolake-lake-${topic}-1`), 'a txn per partition of the alerts topic');
  assert.ok((snapshot?.checkpointVersion ?? -1) > 0, 'checkpointed every two versions');
});
