// The front door tried as an attacker on the same network would, against the real cloud process
// with its embedded broker and a real Kafka: strangers, wrong and disabled credentials, a site
// writing or reading for another, forged acks, a hijacked client id, an oversized packet. Each is
// refused, logged and counted, while a good site keeps flowing and loses nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { encodeBatch } from '../../../shared/contract/envelopes.js';
import { siteTopic } from '../../../shared/contract/topics.js';
import type { BatchAck, Reading } from '../../../shared/reading.js';
import { freePorts, sleep } from '../../services/processes.js';
import { cloudTestEnv, testSecret } from '../../support/cloud-sites.js';
import { Deployable } from '../../support/deployable.js';
import { requiredEnv } from '../../support/env.js';
import { readWholeTopic } from '../../support/kafka-topic.js';
import { aircon } from '../../support/observations.js';
import { newOperatorToken } from '../../../cloud/http/auth.js';
import { disableSite } from '../../../cloud/sites/admin.js';

const run = randomUUID().slice(0, 8);
const good = `good-${run}`;
const other = `other-${run}`;
const off = `off-${run}`;
const dir = mkdtempSync(join(tmpdir(), 'echolake-front-door-'));
const topic = `readings-front-door-${run}`;
const operator = newOperatorToken('ops');
let cloud: Deployable;
let url: string;
let api: string;
const clients: MqttClient[] = [];

before(async () => {
  const [port] = (await freePorts(1)) as [number];
  url = `mqtt://127.0.0.1:${port}`;
  const env = await cloudTestEnv(dir, [good, other, off]);
  // The registry with one site disabled, as an operator does with `site disable`.
  disableSite(env.ECHOLAKE_CLOUD_SITES__FILE ?? '', off);
  const configFile = join(dir, 'cloud.yaml');
  writeFileSync(configFile, `api:\n  operators:\n    - name: ${operator.entry.name}\n      tokenSha256: ${operator.entry.tokenSha256}\n`);
  cloud = new Deployable('cloud', 'cloud/main.ts', ['--config', configFile], {
    ...env,
    ECHOLAKE_CLOUD_ROLES__LAKE: 'false',
    ECHOLAKE_CLOUD_BROKER__ENABLED: 'true',
    ECHOLAKE_CLOUD_BROKER__PORT: String(port),
    ECHOLAKE_CLOUD_BROKER__MAX_PACKET_BYTES: String(1024 * 1024),
    ECHOLAKE_CLOUD_MQTT__URL: url,
    ECHOLAKE_CLOUD_MQTT__PROTOCOL_VERSION: '4',
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: '',
    ECHOLAKE_CLOUD_KAFKA__BROKERS: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS'),
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: topic,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: `dlq-front-door-${run}`,
  });
  const listening = await cloud.waitFor((e) => e.msg === 'cloud API listening', 60_000, 'the cloud API');
  api = String(listening.url);
  await cloud.waitFor((e) => e.msg === 'ingest subscribed', 30_000, 'the ingest');
});

after(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => undefined);
  await cloud.stop();
  rmSync(dir, { recursive: true, force: true });
});

const reading = (siteId: string, seq: number): Reading => ({ v: 1, siteId, seq, ...aircon(seq % 4) });
const batch = (siteId: string, first: number, last: number, claimedSite = siteId): string => {
  const readings: string[] = [];
  for (let seq = first; seq <= last; seq += 1) readings.push(JSON.stringify(reading(claimedSite, seq)));
  return encodeBatch(claimedSite, `${first}-${last}`, readings);
};

async function connectAs(siteId: string, secret: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await connectAsync(url, { protocolVersion: 4, username: siteId, password: secret, clientId: `echolake-edge-${siteId}`, reconnectPeriod: 0, ...extra });
  clients.push(client);
  return client;
}

/** The CONNACK error a refused connect gets, or 'accepted'. */
async function connectOutcome(options: IClientOptions): Promise<string> {
  try {
    const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
    await client.endAsync(true);
    return 'accepted';
  } catch (err) {
    return (err as Error).message;
  }
}

/** A good site sending batch after batch, each only after the previous one's ack, like the edge. */
async function goodSiteFlow(batches: number, perBatch: number, signal: { stop: boolean }): Promise<number> {
  const client = await connectAs(good, testSecret(good));
  const acks: BatchAck[] = [];
  client.on('message', (_topic, payload) => acks.push(JSON.parse(String(payload)) as BatchAck));
  await client.subscribeAsync(siteTopic(good, 'acks'), { qos: 1 });
  let lastSeq = 0;
  for (let i = 0; i < batches && !signal.stop; i += 1) {
    const first = lastSeq + 1;
    const last = lastSeq + perBatch;
    await client.publishAsync(siteTopic(good, 'readings'), batch(good, first, last), { qos: 1 });
    const deadline = Date.now() + 10_000;
    while (!acks.some((ack) => ack.batchId === `${first}-${last}`)) {
      if (Date.now() > deadline) throw new Error(`no ack for the good site's batch ${first}-${last}`);
      await sleep(20);
    }
    lastSeq = last;
  }
  return lastSeq;
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

test('strangers, wrong secrets, disabled sites and hijacked client ids are refused at connect', async () => {
  assert.match(await connectOutcome({ clientId: `echolake-edge-${good}` }), /Bad username or password/);
  assert.match(await connectOutcome({ clientId: `echolake-edge-${good}`, username: good, password: 'guess' }), /Bad username or password/);
  assert.match(await connectOutcome({ clientId: `echolake-edge-${off}`, username: off, password: testSecret(off) }), /Not authorized/);
  // Another site's credentials with the cloud's (or the good site's) client id would take over that session.
  assert.match(await connectOutcome({ clientId: 'echolake-cloud-ingest-x', username: other, password: testSecret(other) }), /Identifier rejected/);
  assert.match(await connectOutcome({ clientId: `echolake-edge-${good}`, username: other, password: testSecret(other) }), /Identifier rejected/);
  // Site ids may hold '-': with a '-suffix' this site could name the id of a site `${other}-b` and take its session.
  assert.match(await connectOutcome({ clientId: `echolake-edge-${other}-b`, username: other, password: testSecret(other) }), /Identifier rejected/);
  assert.equal(await connectOutcome({ clientId: `echolake-edge-${other}.b`, username: other, password: testSecret(other) }), 'accepted');
  assert.equal(await connectOutcome({ clientId: `echolake-edge-${good}`, username: good, password: testSecret(good) }), 'accepted');
  assert.ok((await metric('echolake_broker_refused_total', 'action="connect",reason="unknown-user"')) >= 1);
  assert.ok((await metric('echolake_broker_refused_total', 'action="connect",reason="bad-secret"')) >= 1);
  assert.ok((await metric('echolake_broker_refused_total', 'action="connect",reason="site-disabled"')) >= 1);
  assert.ok((await metric('echolake_broker_refused_total', 'action="connect",reason="client-id"')) >= 3);
  await cloud.waitFor((e) => e.msg === 'mqtt connect refused' && e.reason === 'client-id', 5000, 'the refusal in the log');
});

test('a site cannot write, read or acknowledge for another, while a good site flows and loses nothing', { timeout: 120_000 }, async () => {
  const signal = { stop: false };
  const flowing = goodSiteFlow(40, 25, signal);

  // Another site reads the good site's acks, or everything: the broker refuses the subscriptions.
  const attacker = await connectAs(other, testSecret(other));
  const granted: string[] = [];
  for (const filter of [siteTopic(good, 'acks'), '#', siteTopic(other, 'acks')]) {
    granted.push(await attacker.subscribeAsync(filter, { qos: 1 }).then(() => 'granted', (err: Error) => err.message));
  }
  assert.deepEqual(granted, ['Subscribe error: Unspecified error', 'Subscribe error: Unspecified error', 'granted']);
  const attackerAcks: BatchAck[] = [];
  attacker.on('message', (_topic, payload) => attackerAcks.push(JSON.parse(String(payload)) as BatchAck));

  // A batch on its own topic that claims to be the good site's: dead-lettered, and no ack for it anywhere.
  await attacker.publishAsync(siteTopic(other, 'readings'), batch(other, 1, 3, good), { qos: 1 });
  await cloud.waitFor((e) => e.msg === 'batch dead-lettered' && e.reason === 'foreign-site', 10_000, 'the foreign batch dead-lettered');

  // A forged ack (on the good site's topic or its own), a batch on the good site's topic: the broker
  // refuses each publish and drops the client. Refusals are logged throttled, counted always.
  const forgeries: Array<[string, string]> = [
    [siteTopic(good, 'acks'), JSON.stringify({ v: 1, siteId: good, batchId: '999-1000', lastSeq: 1000 })],
    [siteTopic(other, 'acks'), JSON.stringify({ v: 1, siteId: other, batchId: '1-3', lastSeq: 3 })],
    [siteTopic(good, 'readings'), batch(good, 500_000, 500_002)],
  ];
  for (const [index, [target, payload]] of forgeries.entries()) {
    const forger = await connectAs(other, testSecret(other), { clientId: `echolake-edge-${other}.forger${index}` });
    const closed = new Promise<void>((resolve) => forger.once('close', () => resolve()));
    forger.publish(target, payload, { qos: 1 });
    await closed;
  }
  await cloud.waitFor((e) => e.msg === 'mqtt publish refused' && e.reason === 'foreign-topic', 10_000, 'the forged publish refused');

  // An oversized packet: the connection is closed before the broker buffers it.
  const flooder = await connectAs(other, testSecret(other), { clientId: `echolake-edge-${other}.flood` });
  flooder.publish(siteTopic(other, 'readings'), Buffer.alloc(3 * 1024 * 1024, 0x20), { qos: 1 });
  await cloud.waitFor((e) => String(e.msg).startsWith('connection closed: MQTT packet over'), 10_000, 'the oversized packet refused');

  const lastSeq = await flowing;
  assert.equal(lastSeq, 40 * 25, 'the good site was never stalled');
  assert.deepEqual(attackerAcks, [], 'no ack for a batch that was not the site\'s own');

  const inKafka = (await readWholeTopic(topic)).map((m) => JSON.parse(m.value) as Reading);
  const goodSeqs = new Set(inKafka.filter((r) => r.siteId === good).map((r) => r.seq));
  for (let seq = 1; seq <= lastSeq; seq += 1) assert.ok(goodSeqs.has(seq), `good seq ${seq} in Kafka`);
  assert.ok(!inKafka.some((r) => r.siteId === good && r.seq >= 500_000), 'nothing another site wrote under the good site');
  assert.equal(inKafka.filter((r) => r.siteId !== good).length, 0);
  assert.equal(await metric('echolake_ingest_dead_letters_total', 'reason="foreign-site"'), 1);
  assert.ok((await metric('echolake_broker_refused_total', 'action="subscribe",reason="foreign-topic"')) >= 2);
  assert.ok((await metric('echolake_broker_refused_total', 'action="publish",reason="foreign-topic"')) >= 1);
  assert.ok((await metric('echolake_broker_refused_total', 'action="publish",reason="not-allowed"')) >= 1);
  assert.equal(await metric('echolake_broker_oversized_packets_total', ''), 0, 'the counter has no labels');
  assert.match(await (await fetch(`${api}/metrics`)).text(), /^echolake_broker_oversized_packets_total 1$/m);
  signal.stop = true;
});

test('the API shows sites to operators only, without secrets; a site disabled while connected can publish no more', async () => {
  const anonymous = await fetch(`${api}/api/v1/sites`);
  assert.equal(anonymous.status, 401);
  assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'unauthorized');
  assert.equal((await fetch(`${api}/api/v1/sites`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  const listed = await fetch(`${api}/api/v1/sites/${good}`, { headers: { authorization: `Bearer ${operator.token}` } });
  assert.equal(listed.status, 200);
  const view = (await listed.json()) as { id: string; secrets: Array<Record<string, unknown>>; status: { online: boolean; lastSeq: number } };
  assert.equal(view.id, good);
  assert.equal(view.status.online, true);
  assert.equal(view.status.lastSeq, 1000);
  assert.deepEqual(Object.keys(view.secrets[0] ?? {}).sort(), ['createdAt', 'id'], 'never a hash');
  assert.equal((await fetch(`${api}/readyz`)).status, 200);

  const connected = await connectAs(good, testSecret(good), { clientId: `echolake-edge-${good}.late` });
  disableSite(join(dir, 'sites.yaml'), good);
  await cloud.waitFor((e) => e.msg === 'site registry reloaded', 10_000, 'the reload');
  const closed = new Promise<void>((resolve) => connected.once('close', () => resolve()));
  connected.publish(siteTopic(good, 'readings'), batch(good, 2000, 2001), { qos: 1 });
  await closed;
  assert.match(await connectOutcome({ clientId: `echolake-edge-${good}`, username: good, password: testSecret(good) }), /Not authorized/);
  assert.ok((await metric('echolake_broker_refused_total', 'action="publish",reason="site-disabled"')) >= 1);
});
