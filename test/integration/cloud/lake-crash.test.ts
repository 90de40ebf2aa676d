import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { LogStore } from '../../../cloud/lake/delta/log-store.js';
import { Snapshot } from '../../../cloud/lake/delta/snapshot.js';
import { LocalObjectStore } from '../../../cloud/lake/storage/local-store.js';
import type { Reading } from '../../../shared/reading.js';
import { cloudTestEnv } from '../../support/cloud-sites.js';
import { Deployable } from '../../support/deployable.js';
import { requiredEnv } from '../../support/env.js';
import { aircon } from '../../support/observations.js';
import { python } from '../../support/python.js';

// The lake role SIGKILLed at random moments (while encoding, uploading, committing or checkpointing:
// commits are small and frequent, a checkpoint every 3 versions) many times in one run, while sites
// resend batches and a broken message and a corrupt seq sit in the topic: in the end every genuine
// reading is in the table exactly once, and the two bad messages are in the dead-letter table once.
const run = randomUUID().slice(0, 8);
const topic = `lake-crash-${run}`;
const lakeRoot = mkdtempSync(join(tmpdir(), 'echolake-lake-crash-'));
const SITES = ['a', 'b', 'c'].map((s) => `site-${s}-${run}`);
const PER_SITE = 600;
const BATCH = 25;
const KILLS = 8;
let kafka: Kafka;
let producer: Producer;

before(async () => {
  kafka = new Kafka({ clientId: `lake-crash-${run}`, brokers: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
});

const reading = (siteId: string, seq: number): Reading => ({ v: 1, siteId, seq, ...aircon(seq % 4, { ts: new Date(Date.UTC(2026, 10, 23, 0, 0, 0, seq)).toISOString() }) });
const send = (readings: Reading[]) => producer.send({ topic, messages: readings.map((r) => ({ key: r.deviceId, value: JSON.stringify(r) })) });

const resends: Array<Promise<unknown>> = [];

/** Each site's batches in order; every fourth batch is sent twice (its ack was lost), the copy a little later. */
async function produceAll(): Promise<void> {
  for (let first = 1; first <= PER_SITE; first += BATCH) {
    for (const siteId of SITES) {
      const batch = Array.from({ length: BATCH }, (_, i) => reading(siteId, first + i));
      await send(batch);
      if (((first - 1) / BATCH) % 4 === 1) resends.push(new Promise((resolve) => setTimeout(resolve, randomInt(50, 400))).then(() => send(batch)));
    }
    if (first === 1 + BATCH * 6) {
      await producer.send({ topic, messages: [{ key: 'broken', value: '{"v":1,"siteId":' }] });
      await send([reading(SITES[0] ?? '', 5_000_000_000)]);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await Promise.all(resends);
}

/** Polls the table (our own log reader) until its offset txns cover every message of the topic. */
async function waitUntilTableHas(ends: Map<number, number>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const snapshot = await Snapshot.load(new LogStore(new LocalObjectStore(join(lakeRoot, 'readings'))));
    const behind = [...ends].filter(([partition, end]) => (snapshot?.txns.get(`echolake-lake-${topic}-${partition}`) ?? -1) < end);
    if (behind.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the table never caught up with partitions ${JSON.stringify(behind)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function lake(generation: number): Deployable {
  return new Deployable(`lake-${generation}`, 'cloud/main.ts', [], {
    ECHOLAKE_CLOUD_ROLES__INGEST: 'false',
    ECHOLAKE_CLOUD_KAFKA__BROKERS: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS'),
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: topic,
    ECHOLAKE_CLOUD_LAKE__ROOT: lakeRoot,
    // A fresh group each time: the dead member's partitions are free at once, and Kafka's offsets
    // play no part, the table's txns alone decide where reading resumes.
    ECHOLAKE_CLOUD_LAKE__GROUP_ID: `lake-${run}-${generation}`,
    ECHOLAKE_CLOUD_LAKE__MAX_RECORDS: '40',
    ECHOLAKE_CLOUD_LAKE__MAX_AGE_MS: '150',
    ECHOLAKE_CLOUD_LAKE__CHECKPOINT_INTERVAL: '3',
    ECHOLAKE_CLOUD_LAKE__MAX_SEQ_JUMP: '100000',
  });
}

test('SIGKILLed again and again while sites resend: every reading exactly once, bad messages dead-lettered once', { timeout: 600_000 }, async () => {
  Object.assign(process.env, await cloudTestEnv(lakeRoot, SITES));
  const producing = produceAll();
  for (let generation = 0; generation < KILLS; generation += 1) {
    const writer = lake(generation);
    await writer.waitFor((e) => e.msg === 'lake writer started', 60_000, 'the lake writer');
    await new Promise((resolve) => setTimeout(resolve, randomInt(200, 2500)));
    await writer.stop('SIGKILL');
  }
  await producing;
  const admin = kafka.admin();
  await admin.connect();
  const watermarks = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const last = lake(KILLS);
  await last.waitFor((e) => e.msg === 'lake writer started', 60_000, 'the last lake writer');
  await waitUntilTableHas(new Map(watermarks.map((w) => [w.partition, Number(w.high) - 1])), 180_000);
  assert.equal(await last.stop(), 0);
  const table = await python<{ rows: number; distinct: number; perSite: Record<string, [number, number, number]>; dead: Array<[string, number]>; version: number; checkpoints: number }>(
    `
import json, sys, os
from deltalake import DeltaTable
rows = DeltaTable(os.path.join(sys.argv[1], "readings")).to_pyarrow_table(columns=["siteId", "seq"]).to_pylist()
keys = [(r["siteId"], r["seq"]) for r in rows]
per_site = {}
for site, seq in keys:
    n, lo, hi = per_site.get(site, (0, seq, seq))
    per_site[site] = (n + 1, min(lo, seq), max(hi, seq))
dead = DeltaTable(os.path.join(sys.argv[1], "dead_letters")).to_pyarrow_table(columns=["reason", "kafkaOffset"]).to_pylist()
log = os.listdir(os.path.join(sys.argv[1], "readings", "_delta_log"))
print(json.dumps({"rows": len(keys), "distinct": len(set(keys)), "perSite": per_site, "dead": sorted([d["reason"][:40], d["kafkaOffset"]] for d in dead),
  "version": DeltaTable(os.path.join(sys.argv[1], "readings")).version(), "checkpoints": sum(1 for n in log if n.endswith(".checkpoint.parquet"))}))
`,
    lakeRoot,
  );
  assert.equal(table.distinct, table.rows, 'no reading twice');
  assert.deepEqual(table.perSite, Object.fromEntries(SITES.map((s) => [s, [PER_SITE, 1, PER_SITE]])), 'every reading of every site, none missing');
  assert.equal(table.dead.length, 2, `the broken message and the corrupt seq, once each: ${JSON.stringify(table.dead)}`);
  assert.deepEqual(table.dead.map(([reason]) => reason.split(':')[0]?.split(' ')[0]).sort(), ['seq', 'unreadable']);
  assert.ok(table.checkpoints > 3, `checkpoints were written along the way (${table.checkpoints})`);
});
