// The HTTPS way in, end to end: simulated aircons → the edge with an https:// uplink → the cloud's
// API (TLS, the site's secret as bearer) → Kafka → Delta. The cloud is SIGKILLed three times while
// the edge delivers; the table ends with every reading the edge made, each exactly once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startSimulator } from '../../../edge/simulator/simulator.js';
import { silentLogger } from '../../../shared/log.js';
import { freePorts, sleep } from '../../services/processes.js';
import { makeTestPki } from '../../support/certificates.js';
import { cloudTestEnv, testSecret } from '../../support/cloud-sites.js';
import { readDeltaTable } from '../../support/delta-reader.js';
import { Deployable, type LogEvent } from '../../support/deployable.js';
import { requiredEnv } from '../../support/env.js';

const run = randomUUID().slice(0, 8);
const siteId = `https-${run}`;
const work = mkdtempSync(join(tmpdir(), 'echolake-https-'));
const echonetPort = 20_000 + Math.floor(Math.random() * 20_000);
const parts: Array<{ stop(): Promise<unknown> }> = [];
after(async () => {
  for (const part of parts.reverse()) await part.stop();
});

const acknowledged = (events: LogEvent[]) => events.filter((e) => e.msg === 'batch acknowledged by the cloud').length;
const outboxCommits = (events: LogEvent[]) => events.filter((e) => e.msg === 'readings committed to the outbox');

test('an edge with an https:// uplink delivers every reading exactly once through SIGKILLs of the cloud', { timeout: 240_000 }, async () => {
  const pki = makeTestPki(work);
  const [apiPort] = (await freePorts(1)) as [number];
  const env = {
    ...(await cloudTestEnv(work, [siteId])),
    ECHOLAKE_CLOUD_API__PORT: String(apiPort),
    ECHOLAKE_CLOUD_API__TLS__CERT_FILE: pki.serverCertFile,
    ECHOLAKE_CLOUD_API__TLS__KEY_FILE: pki.serverKeyFile,
    ECHOLAKE_CLOUD_MQTT__URL: requiredEnv('ECHOLAKE_TEST_MQTT_URL'),
    ECHOLAKE_CLOUD_MQTT__CLIENT_ID: `echolake-cloud-https-${run}`,
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: `ingest-${run}`,
    ECHOLAKE_CLOUD_KAFKA__BROKERS: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS'),
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: `readings-https-${run}`,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: `dlq-https-${run}`,
    ECHOLAKE_CLOUD_LAKE__ROOT: join(work, 'lake'),
    ECHOLAKE_CLOUD_LAKE__GROUP_ID: `lake-https-${run}`,
    ECHOLAKE_CLOUD_LAKE__MAX_AGE_MS: '500',
  };
  let cloud = new Deployable('cloud', 'cloud/main.ts', [], env);
  let current = cloud;
  parts.push({ stop: () => current.stop() });
  await cloud.waitFor((e) => e.msg === 'cloud API listening', 60_000, 'the cloud API');
  assert.match(String(cloud.events.find((e) => e.msg === 'cloud API listening')?.url), /^https:/);

  const simulator = await startSimulator({ interfaceAddress: '127.0.0.1', baseAddress: '127.0.4.2', nodes: 2, port: echonetPort, tickMs: 500, timeScale: 120, seed: 11, logger: silentLogger() });
  let simulatorRunning = true;
  parts.push({ stop: () => (simulatorRunning ? simulator.stop() : Promise.resolve()) });
  const passwordFile = join(work, 'uplink.password');
  writeFileSync(passwordFile, testSecret(siteId), { mode: 0o600 });
  const edge = new Deployable('edge', 'edge/main.ts', [], {
    ECHOLAKE_EDGE_SITE_ID: siteId,
    ECHOLAKE_EDGE_STATE_DIR: join(work, 'edge'),
    ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
    ECHOLAKE_EDGE_ECHONET__PORT: String(echonetPort),
    ECHOLAKE_EDGE_ECHONET__POLL_INTERVAL_MS: '500',
    ECHOLAKE_EDGE_BUFFER__COMMIT_INTERVAL_MS: '200',
    ECHOLAKE_EDGE_API__PORT: '0',
    ECHOLAKE_EDGE_UPLINK__URL: `https://127.0.0.1:${apiPort}`,
    ECHOLAKE_EDGE_UPLINK__PASSWORD_FILE: passwordFile,
    ECHOLAKE_EDGE_UPLINK__TLS__CA_FILE: pki.caFile,
    ECHOLAKE_EDGE_UPLINK__BATCH_MAX_READINGS: '5',
    ECHOLAKE_EDGE_UPLINK__BATCH_MAX_AGE_MS: '200',
    ECHOLAKE_EDGE_UPLINK__ACK_TIMEOUT_MS: '3000',
    ECHOLAKE_EDGE_UPLINK__RECONNECT_MIN_MS: '200',
    ECHOLAKE_EDGE_UPLINK__RECONNECT_MAX_MS: '1000',
  });
  parts.push(edge);

  for (let kill = 1; kill <= 3; kill += 1) {
    const before = acknowledged(edge.events);
    await edge.waitFor(() => acknowledged(edge.events) >= before + 3, 60_000, `three more batches acknowledged before kill ${kill}`);
    await cloud.stop('SIGKILL');
    await sleep(500);
    cloud = new Deployable('cloud', 'cloud/main.ts', [], env);
    current = cloud;
    await cloud.waitFor((e) => e.msg === 'cloud API listening', 60_000, `the cloud after kill ${kill}`);
  }
  await simulator.stop();
  simulatorRunning = false;
  await sleep(1500);

  const commits = outboxCommits(edge.events);
  const firstSeq = Math.min(...commits.map((e) => Number(e.firstSeq)));
  const lastSeq = Math.max(...commits.map((e) => Number(e.lastSeq)));
  await edge.waitFor((e) => e.msg === 'batch acknowledged by the cloud' && Number(String(e.batchId).split('-')[1]) >= lastSeq, 60_000, `seq ${lastSeq} acknowledged`);
  const deadline = Date.now() + 60_000;
  let seqs: number[] = [];
  while (Date.now() < deadline) {
    seqs = (await readDeltaTable(join(work, 'lake', 'readings')).catch(() => ({ rows: [] }))).rows.map((row) => Number(row.seq));
    if (seqs.length >= lastSeq - firstSeq + 1) break;
    await sleep(1000);
  }
  assert.deepEqual(seqs, Array.from({ length: lastSeq - firstSeq + 1 }, (_, i) => firstSeq + i), 'every reading the edge made, once, in order');
});
