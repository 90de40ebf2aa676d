import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { LogStore } from '../../../cloud/lake/delta/log-store.js';
import { Snapshot } from '../../../cloud/lake/delta/snapshot.js';
import { LocalObjectStore } from '../../../cloud/lake/storage/local-store.js';
import { CRASH_POINTS, type CrashPoint } from '../../../cloud/lake/test-crash.js';
import type { Reading } from '../../../shared/reading.js';
import { cloudTestEnv } from '../../support/cloud-sites.js';
import { Deployable } from '../../support/deployable.js';
import { requiredEnv } from '../../support/env.js';
import { aircon } from '../../support/observations.js';
import { python } from '../../support/python.js';

// The lake role killed at each named point of its write path in turn (ECHOLAKE_TEST_CRASH_AT, the
// test-only hook in cloud/lake/test-crash.ts): before its files are uploaded, after, just before and
// just after a commit, and between a checkpoint and its `_last_checkpoint`. Each time the sites'
// new batches (one of them resent, as after a lost ack) wait in Kafka; after a restart without the
// hook, delta-rs finds every reading so far exactly once. The random kills are in lake-crash.test.ts.
const run = randomUUID().slice(0, 8);
const topic = `lake-crash-points-${run}`;
const lakeRoot = mkdtempSync(join(tmpdir(), 'echolake-lake-crash-points-'));
const SITES = ['a', 'b'].map((s) => `site-${s}-${run}`);
const BATCH = 15;
const BATCHES_PER_ROUND = 3;
let kafka: Kafka;
let producer: Producer;

before(async () => {
  Object.assign(process.env, await cloudTestEnv(lakeRoot, SITES));
  kafka = new Kafka({ clientId: `lake-crash-points-${run}`, brokers: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
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

/** One round of each site's batches after `sent` readings; the round's second batch goes twice (its ack was lost). */
async function produceRound(sent: number): Promise<void> {
  for (let b = 0; b < BATCHES_PER_ROUND; b += 1) {
    for (const siteId of SITES) {
      const batch = Array.from({ length: BATCH }, (_, i) => reading(siteId, sent + b * BATCH + i + 1));
      const messages = batch.map((r) => ({ key: r.deviceId, value: JSON.stringify(r) }));
      await producer.send({ topic, messages });
      if (b === 1) await producer.send({ topic, messages });
    }
  }
}

function lake(name: string, crashAt: CrashPoint | ''): Deployable {
  return new Deployable(`lake-${name}`, 'cloud/main.ts', [], {
    ECHOLAKE_CLOUD_ROLES__INGEST: 'false',
    ECHOLAKE_CLOUD_KAFKA__BROKERS: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS'),
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: topic,
    ECHOLAKE_CLOUD_LAKE__ROOT: lakeRoot,
    // A fresh group each time: Kafka's offsets play no part, the table's txns alone decide where reading resumes.
    ECHOLAKE_CLOUD_LAKE__GROUP_ID: `lake-${run}-${name}`,
    ECHOLAKE_CLOUD_LAKE__MAX_RECORDS: '10',
    ECHOLAKE_CLOUD_LAKE__MAX_AGE_MS: '100',
    // Small commits, a checkpoint every other version: every round reaches every point.
    ECHOLAKE_CLOUD_LAKE__CHECKPOINT_INTERVAL: '2',
    ECHOLAKE_TEST_CRASH_AT: crashAt,
  });
}

/** Polls the table (our own log reader) until its offset txns cover every message of the topic. */
async function waitUntilTableHasAll(timeoutMs: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = (await admin.fetchTopicOffsets(topic)).map((w) => [w.partition, Number(w.high) - 1] as const);
  await admin.disconnect();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const snapshot = await Snapshot.load(new LogStore(new LocalObjectStore(join(lakeRoot, 'readings'))));
    const behind = ends.filter(([partition, end]) => end >= 0 && (snapshot?.txns.get(`echolake-lake-${topic}-${partition}`) ?? -1) < end);
    if (behind.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the table never caught up with partitions ${JSON.stringify(behind)}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** delta-rs's count of rows, distinct (siteId, seq), and per site [count, min seq, max seq]. */
const readBack = () =>
  python<{ rows: number; distinct: number; perSite: Record<string, [number, number, number]> }>(
    `
import json, sys, os
from deltalake import DeltaTable
rows = DeltaTable(os.path.join(sys.argv[1], "readings")).to_pyarrow_table(columns=["siteId", "seq"]).to_pylist()
keys = [(r["siteId"], r["seq"]) for r in rows]
per_site = {}
for site, seq in keys:
    n, lo, hi = per_site.get(site, (0, seq, seq))
    per_site[site] = (n + 1, min(lo, seq), max(hi, seq))
print(json.dumps({"rows": len(keys), "distinct": len(set(keys)), "perSite": per_site}))
`,
    lakeRoot,
  );

test('killed at each named point of the write path: after a restart every reading is in the table exactly once', { timeout: 600_000 }, async () => {
  let sent = 0;
  for (const point of CRASH_POINTS) {
    await produceRound(sent);
    sent += BATCH * BATCHES_PER_ROUND;
    const doomed = lake(`${point}-crash`, point);
    const code = await Promise.race([doomed.exited, new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 90_000))]);
    if (code === 'alive') await doomed.stop('SIGKILL');
    assert.equal(code, null, `${point}: the lake was killed by its hook (exit ${String(code)})\n${doomed.tail()}`);
    assert.match(doomed.stderr.join(''), new RegExp(`crash point reached: ${point}\\n`));

    const restarted = lake(`${point}-restart`, '');
    await restarted.waitFor((e) => e.msg === 'lake writer started', 60_000, 'the restarted lake writer');
    await waitUntilTableHasAll(120_000);
    assert.equal(await restarted.stop(), 0);
    const table = await readBack();
    assert.equal(table.distinct, table.rows, `${point}: no reading twice`);
    assert.deepEqual(table.perSite, Object.fromEntries(SITES.map((s) => [s, [sent, 1, sent]])), `${point}: every reading of every site, none missing`);
  }
});
