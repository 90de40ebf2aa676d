// The commands audit into the Delta table `commands`, exactly once: real Kafka, a local folder,
// read back by delta-rs. A second writer that reads the whole topic again adds nothing twice.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { ensureAuditTopic } from '../../../cloud/commands/audit-topic.js';
import type { AuditEvent } from '../../../cloud/commands/ledger.js';
import { CommandsLakeWriter } from '../../../cloud/lake/commands-writer.js';
import { LocalObjectStore } from '../../../cloud/lake/storage/local-store.js';
import { requiredEnv } from '../../support/env.js';
import { sleep } from '../../support/wait.js';

const run = randomUUID().slice(0, 8);
const topic = `commands-audit-${run}`;
const dir = mkdtempSync(join(tmpdir(), 'echolake-lake-commands-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  commandId: string;
  type: string;
  state: string | null;
  siteId: string | null;
  deviceId: string | null;
  author: string | null;
  reason: string | null;
  kafkaOffset: number;
}

async function readTable(path: string): Promise<Row[]> {
  const script = `
import json, sys
from deltalake import DeltaTable
frame = DeltaTable(sys.argv[1]).to_pandas().sort_values(["kafkaPartition", "kafkaOffset"])
print(frame[["commandId", "type", "state", "siteId", "deviceId", "author", "reason", "kafkaOffset"]].to_json(orient="records"))
`;
  const { stdout } = await promisify(execFile)(requiredEnv('ECHOLAKE_TEST_PYTHON'), ['-c', script, path]);
  return JSON.parse(stdout) as Row[];
}

const keyOf = (event: AuditEvent): string => (event.type === 'created' ? event.command.commandId : event.type === 'published' ? event.commandId : event.result.commandId);

const story = (commandId: string, at: string): AuditEvent[] => [
  {
    type: 'created',
    at,
    command: { commandId, author: 'ops', reason: 'drill', createdAt: at, notBefore: at, expiresAt: at, set: { targetTemperature: 27 }, restore: false, targets: [{ siteId: 'a', devices: 'all' }] },
  },
  { type: 'published', at, commandId, siteId: 'a' },
  { type: 'result', at, result: { v: 1, commandId, siteId: 'a', state: 'received', at } },
  { type: 'result', at, result: { v: 1, commandId, siteId: 'a', deviceId: 'd1', state: 'verified', at, values: { targetTemperature: 27 } } },
];

test('every audit record lands in the commands table once, across a writer that reads the topic again', { timeout: 120_000 }, async () => {
  const brokers = requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS').split(',');
  const kafka = new Kafka({ clientId: `test-${run}`, brokers, logLevel: logLevel.NOTHING });
  await ensureAuditTopic(kafka, topic, { partitions: 2, replicationFactor: 1 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const send = (events: AuditEvent[]) =>
    producer.send({ topic, acks: -1, messages: events.map((event) => ({ key: keyOf(event), value: JSON.stringify(event) })) });
  const log = pino({ level: 'silent' });
  const store = () => new LocalObjectStore(join(dir, 'commands'));
  const writer = (group: string) => new CommandsLakeWriter(kafka, store(), { topic, groupId: group, appId: `lake-${run}`, onFatal: (err) => assert.fail(err) }, log, 'test');
  try {
    await send(story('c1', '2026-07-01T00:00:00.000Z'));
    await producer.send({ topic, messages: [{ key: 'junk', value: 'not json' }] });
    const first = writer(`g1-${run}`);
    await first.start();
    const path = join(dir, 'commands');
    for (let i = 0; i < 100 && (await readTable(path).catch(() => [])).length < 4; i++) await sleep(300);
    await first.stop();
    await send(story('c2', '2026-07-02T00:00:00.000Z'));
    // Another group starts at the topic's beginning: only the table's txns keep c1 from going in twice.
    const second = writer(`g2-${run}`);
    await second.start();
    for (let i = 0; i < 100 && (await readTable(path).catch(() => [])).length < 8; i++) await sleep(300);
    await sleep(1000);
    await second.stop();
    const rows = await readTable(path);
    assert.equal(rows.length, 8, 'two commands, four records each, the junk left out');
    for (const commandId of ['c1', 'c2']) {
      const mine = rows.filter((r) => r.commandId === commandId);
      assert.deepEqual(mine.map((r) => [r.type, r.state, r.siteId, r.deviceId]).sort(), [
        ['created', 'pending', null, null],
        ['published', null, 'a', null],
        ['result', 'received', 'a', null],
        ['result', 'verified', 'a', 'd1'],
      ].sort());
      assert.equal(mine.find((r) => r.type === 'created')?.author, 'ops');
    }
  } finally {
    await producer.disconnect();
  }
});
