// Two cloud replicas on one external broker (Mosquitto, MQTT 5 shared subscription) share the
// sites; SIGKILL of one loses nothing; with Kafka frozen nothing is acknowledged and /readyz says
// so; once Kafka is back every reading of every site arrives.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Reading } from '../../../shared/reading.js';
import { installKafka, startKafka } from '../../services/kafka.js';
import { sleep } from '../../services/processes.js';
import type { RunningService } from '../../services/service.js';
import { cloudTestEnv } from '../../support/cloud-sites.js';
import { Deployable } from '../../support/deployable.js';
import { requiredEnv } from '../../support/env.js';
import { readWholeTopic } from '../../support/kafka-topic.js';
import { SiteClient } from '../../support/site-client.js';

const run = randomUUID().slice(0, 8);
const dir = mkdtempSync(join(tmpdir(), 'echolake-replicas-'));
const siteIds = Array.from({ length: 8 }, (_, i) => `replica-site-${i}-${run}`);
const topic = `readings-replicas-${run}`;
let kafka: RunningService;
const clouds: Deployable[] = [];
const sites: SiteClient[] = [];

before(async () => {
  // A Kafka of its own: this test freezes it, which the other tests must not feel.
  await installKafka();
  kafka = await startKafka();
});

after(async () => {
  for (const site of sites) await site.close().catch(() => undefined);
  for (const cloud of clouds) await cloud.stop('SIGKILL');
  await kafka.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startReplica(name: string): Promise<{ cloud: Deployable; api: string }> {
  const cloud = new Deployable(name, 'cloud/main.ts', [], {
    ...(await cloudTestEnv(dir, siteIds)),
    ECHOLAKE_CLOUD_ROLES__LAKE: 'false',
    ECHOLAKE_CLOUD_MQTT__URL: requiredEnv('ECHOLAKE_TEST_MQTT_URL'),
    ECHOLAKE_CLOUD_MQTT__CLIENT_ID: `echolake-cloud-${name}-${run}`,
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: `ingest-${run}`,
    ECHOLAKE_CLOUD_KAFKA__BROKERS: kafka.env.ECHOLAKE_TEST_KAFKA_BROKERS ?? '',
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: topic,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: `dlq-replicas-${run}`,
  });
  clouds.push(cloud);
  const listening = await cloud.waitFor((e) => e.msg === 'cloud API listening', 60_000, 'its API');
  await cloud.waitFor((e) => e.msg === 'ingest subscribed', 30_000, 'its subscription');
  return { cloud, api: String(listening.url) };
}

const totalAcked = () => sites.reduce((sum, site) => sum + site.acked, 0);

test('two replicas share the sites, a SIGKILL loses nothing, and with Kafka frozen nothing is acknowledged', { timeout: 240_000 }, async () => {
  const first = await startReplica('replica-a');
  const second = await startReplica('replica-b');
  for (const siteId of siteIds) {
    sites.push(await SiteClient.connect({ url: requiredEnv('ECHOLAKE_TEST_MQTT_URL'), siteId, batches: 30, perBatch: 20, ackTimeoutMs: 3000 }));
  }
  const deadline = Date.now() + 200_000;
  const flowing = Promise.all(sites.map((site) => site.run(deadline)));

  const tookBatches = (cloud: Deployable) => cloud.waitFor((e) => e.msg === 'batch in kafka', 30_000, 'a batch');
  await Promise.all([tookBatches(first.cloud), tookBatches(second.cloud)]);
  await first.cloud.stop('SIGKILL');

  while (totalAcked() < siteIds.length * 10) await sleep(100);
  kafka.pause?.();
  await sleep(1500);
  const ackedWhenFrozen = totalAcked();
  await sleep(6000);
  assert.equal(totalAcked(), ackedWhenFrozen, 'nothing acknowledged while Kafka is frozen');
  const ready = await fetch(`${second.api}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(((await ready.json()) as { checks: Record<string, boolean> }).checks.kafka, false);
  kafka.resume?.();

  await flowing.catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${second.cloud.tail(40)}`);
  });
  assert.equal((await fetch(`${second.api}/readyz`)).status, 200);
  const inKafka = new Set((await readWholeTopic(topic, kafka.env.ECHOLAKE_TEST_KAFKA_BROKERS)).map((m) => JSON.parse(m.value) as Reading).map((r) => `${r.siteId}/${r.seq}`));
  for (const siteId of siteIds) {
    for (let seq = 1; seq <= 30 * 20; seq += 1) assert.ok(inKafka.has(`${siteId}/${seq}`), `${siteId} seq ${seq} in Kafka`);
  }
});
