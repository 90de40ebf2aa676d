// The uplink against real Mosquitto: a site's credentials over TLS, the retained status and its
// last will, one batch in flight, the same batch again when its ack does not come, oldest first,
// no extra copy after a reconnect, and the batch's age limit.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connectAsync, type IClientOptions } from 'mqtt';
import { pino } from 'pino';
import { ReadingStore } from '../../../edge/buffer/reading-store.js';
import { Uplink, type OutboxPort, type UplinkOptions } from '../../../edge/uplink/uplink.js';
import type { Reading } from '../../../shared/reading.js';
import { startMosquitto } from '../../services/mosquitto.js';
import { AckingCloud, type ReceivedBatch } from '../../support/acking-cloud.js';
import { makeTestPki } from '../../support/certificates.js';
import { requiredEnv } from '../../support/env.js';
import { aircon } from '../../support/observations.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { sleep, waitFor } from '../../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'echolake-uplink-delivery-'));
const cleanup: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
  rmSync(dir, { recursive: true, force: true });
});

interface Rig {
  store: ReadingStore;
  uplink: Uplink;
  logs: Array<{ msg: string; err?: { message?: string } }>;
}

function openRig(name: string, options: Partial<UplinkOptions> & Pick<UplinkOptions, 'url' | 'siteId'>, outbox?: (store: ReadingStore) => OutboxPort): Rig {
  const logs: Rig['logs'] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Rig['logs'][number]) });
  const store = ReadingStore.open({ path: join(dir, `${name}.db`), siteId: options.siteId, durability: 'NORMAL', maxBytes: 64 * 2 ** 20, historyMs: 3_600_000 }, log);
  const uplink = new Uplink(
    { protocolVersion: 5, batchMaxReadings: 10, batchMaxBytes: 1 << 20, batchMaxAgeMs: 0, ackTimeoutMs: 5_000, ackTimeoutMaxMs: 60_000, maxIncomingBytes: 65_536, reconnectMinMs: 100, reconnectMaxMs: 200, ...options },
    outbox?.(store) ?? store,
    log,
  );
  cleanup.push(() => store.close(), () => uplink.stop());
  return { store, uplink, logs };
}

const now = () => ({ ts: new Date().toISOString() });
const seqsOf = (readings: Reading[]) => readings.map((reading) => reading.seq);
const copiesOf = (cloud: AckingCloud, batchId: string) => cloud.received.filter((batch) => batch.batchId === batchId);

test('over TLS, with the site\'s client certificate and the password from its file, batches are delivered; a wrong password is refused; the status is retained and the will says offline', async () => {
  const pki = makeTestPki(mkdtempSync(join(dir, 'pki-')));
  const broker = await startMosquitto({
    caFile: pki.caFile,
    certFile: pki.serverCertFile,
    keyFile: pki.serverKeyFile,
    users: { 'site-tls': 'correct horse battery', 'cloud-ingest': 'cloud secret' },
  });
  cleanup.push(() => broker.stop());
  const brokerUrl = new URL(broker.env.ECHOLAKE_TEST_MQTT_URL ?? '');
  const link = await TcpProxy.start(Number(brokerUrl.port));
  cleanup.push(() => link.close());
  const tls = { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile };
  const clientTls = (username: string, password: string): IClientOptions => ({
    ca: readFileSync(pki.caFile), cert: readFileSync(pki.clientCertFile), key: readFileSync(pki.clientKeyFile), username, password, rejectUnauthorized: true,
  });

  const cloud = await AckingCloud.start(brokerUrl.href, 'site-tls', { connect: clientTls('cloud-ingest', 'cloud secret') });
  cleanup.push(() => cloud.stop());
  // The password from a file, as systemd's LoadCredential= hands it over, trailing newline and all.
  const passwordFile = join(dir, 'uplink.password');
  writeFileSync(passwordFile, 'correct horse battery\n', { mode: 0o600 });
  const site = openRig('tls', { url: `mqtts://127.0.0.1:${link.port}`, siteId: 'site-tls', username: 'site-tls', passwordFile, tls });
  const made = site.store.append([aircon(0), aircon(1), aircon(2)]);
  site.uplink.start();
  await waitFor('the batch acknowledged over TLS', () => site.store.stats().backlog === 0 || undefined, 15_000);
  assert.deepEqual(cloud.received[0]?.seqs, seqsOf(made));

  // The retained status a newcomer (a dashboard, the cloud) sees at once; then the link dies
  // without a goodbye and the broker publishes the will.
  const watcher = await connectAsync(brokerUrl.href, clientTls('cloud-ingest', 'cloud secret'));
  cleanup.push(() => watcher.endAsync());
  const statuses: Array<{ state: string; backlog?: number; oldestUnsentAt?: string; retained: boolean }> = [];
  watcher.on('message', (_topic, payload, packet) => statuses.push({ ...(JSON.parse(String(payload)) as { state: string; backlog?: number; oldestUnsentAt?: string }), retained: packet.retain }));
  await watcher.subscribeAsync('echolake/v1/sites/site-tls/status', { qos: 1 });
  await waitFor('the retained status', () => statuses.length > 0 || undefined);
  // Sent at connect, when the three readings were still waiting.
  assert.deepEqual(statuses[0], { v: 1, state: 'online', backlog: 3, oldestUnsentAt: statuses[0]?.oldestUnsentAt, retained: true });
  assert.ok(!Number.isNaN(Date.parse(String(statuses[0]?.oldestUnsentAt))));
  link.cut(500);
  await waitFor('the will, offline', () => statuses.some((s) => s.state === 'offline') || undefined, 10_000);
  const again = await waitFor('online again after the reconnect', () => statuses.findLast((s) => s.state === 'online' && statuses.indexOf(s) > 0) ?? undefined, 10_000);
  assert.equal(again.backlog, 0, 'everything was acknowledged before the cut');

  const intruder = openRig('intruder', { url: brokerUrl.href, siteId: 'site-tls', username: 'site-tls', password: 'wrong', tls });
  intruder.uplink.start();
  const refused = await waitFor('the refusal logged', () => intruder.logs.find((line) => line.msg === 'uplink error'), 10_000);
  assert.match(refused.err?.message ?? '', /not authori[sz]ed|bad user ?name or password/i);
  assert.notEqual(intruder.uplink.status().state, 'connected');
});

test('one batch in flight: no ack means the same batch again after the timeout; the next goes after the ack, oldest first; a reconnect adds no copy', async () => {
  const brokerUrl = new URL(requiredEnv('ECHOLAKE_TEST_MQTT_URL'));
  const link = await TcpProxy.start(Number(brokerUrl.port));
  cleanup.push(() => link.close());
  const siteId = `site-inflight-${process.pid}`;
  const cloud = await AckingCloud.start(brokerUrl.href, siteId, { autoAck: false });
  cleanup.push(() => cloud.stop());
  const ackTimeoutMs = 1_500;
  const site = openRig('inflight', { url: `mqtt://127.0.0.1:${link.port}`, siteId, ackTimeoutMs });
  const made = seqsOf(site.store.append(Array.from({ length: 25 }, (_, i) => aircon(i % 4))));
  const batchOf = (from: number, to: number) => `${made[from]}-${made[to]}`;
  site.uplink.start();

  const first = await waitFor('the first batch', () => cloud.received[0]);
  assert.equal(first.batchId, batchOf(0, 9), 'the oldest ten readings first');
  const again = await waitFor('the same batch again', () => cloud.received[1], 5_000);
  assert.equal(again.batchId, first.batchId);
  assert.deepEqual(again.seqs, first.seqs, 'the same seqs');
  assert.ok(again.receivedAt - first.receivedAt >= ackTimeoutMs - 50, `sent again after the ack timeout, not before (${again.receivedAt - first.receivedAt} ms)`);
  assert.deepEqual(new Set(cloud.batches), new Set([first.batchId]), 'nothing else while it waits for its ack');

  cloud.ack(again);
  const second = await waitFor('the next batch', () => cloud.received.find((batch) => batch.batchId !== first.batchId));
  assert.equal(second.batchId, batchOf(10, 19), 'then the next oldest');

  // The link drops while the second batch waits for its ack: back on the broker, the uplink sends
  // nothing at once (the broker had PUBACKed it), and the batch goes again only when its ack is overdue.
  await sleep(100);
  link.cut(200);
  await waitFor('disconnected', () => site.uplink.status().state !== 'connected' || undefined);
  await waitFor('reconnected', () => site.uplink.status().state === 'connected' || undefined, 10_000);
  await sleep(ackTimeoutMs / 2);
  assert.equal(copiesOf(cloud, second.batchId).length, 1, 'no extra copy right after the reconnect');
  const resent = await waitFor('the overdue batch again', () => copiesOf(cloud, second.batchId)[1], 5_000);
  cloud.ack(resent);
  const third = await waitFor('the last batch', () => cloud.received.find((batch) => batch.batchId === batchOf(20, 24)), 5_000);
  cloud.ack(third);
  await waitFor('the backlog empty', () => site.store.stats().backlog === 0 || undefined);
  assert.deepEqual(
    cloud.received.flatMap((batch: ReceivedBatch) => batch.seqs).filter((seq, i, all) => all.indexOf(seq) === i),
    made,
    'every reading, in seq order',
  );
});

test('a batch that is not full waits for its age limit; a full one goes at once', async () => {
  const brokerUrl = requiredEnv('ECHOLAKE_TEST_MQTT_URL');
  const siteId = `site-age-${process.pid}`;
  const cloud = await AckingCloud.start(brokerUrl, siteId);
  cleanup.push(() => cloud.stop());
  const batchMaxAgeMs = 5_000;
  const site = openRig('age', { url: brokerUrl, siteId, batchMaxReadings: 50, batchMaxAgeMs });
  site.uplink.start();
  await waitFor('connected', () => site.uplink.status().state === 'connected' || undefined, 10_000);

  const fullAt = Date.now();
  site.store.append(Array.from({ length: 50 }, (_, i) => aircon(i % 4, now())));
  site.uplink.notify();
  const full = await waitFor('the full batch', () => cloud.received[0], batchMaxAgeMs);
  assert.ok(full.receivedAt - fullAt < batchMaxAgeMs, 'a full batch does not wait');

  const youngAt = Date.now();
  site.store.append([aircon(0, now()), aircon(1, now())]);
  site.uplink.notify();
  const young = await waitFor('the small batch', () => cloud.received[1], 2 * batchMaxAgeMs);
  assert.equal(young.seqs.length, 2);
  assert.ok(young.receivedAt - youngAt >= batchMaxAgeMs - 50, `a small batch waits for its oldest reading to be ${batchMaxAgeMs} ms old (${young.receivedAt - youngAt} ms)`);
});

test('a store that fails under the uplink is retried, not fatal: the batch stays in flight until its ack is recorded', async () => {
  const brokerUrl = requiredEnv('ECHOLAKE_TEST_MQTT_URL');
  const siteId = `site-failing-store-${process.pid}`;
  const cloud = await AckingCloud.start(brokerUrl, siteId);
  cleanup.push(() => cloud.stop());
  const failures = { read: 1, acknowledge: 1 };
  const failOnce = (store: ReadingStore): OutboxPort => ({
    oldestUnsent: (count, bytes) => {
      if (failures.read-- > 0) throw new Error('disk I/O error');
      return store.oldestUnsent(count, bytes);
    },
    inFlight: () => store.inFlight(),
    markInFlight: (range) => store.markInFlight(range),
    readRange: (range) => store.readRange(range),
    backlog: () => store.backlog(),
    acknowledge: (lastSeq) => {
      if (failures.acknowledge-- > 0) throw new Error('database or disk is full');
      return store.acknowledge(lastSeq);
    },
  });
  const site = openRig('failing-store', { url: brokerUrl, siteId, ackTimeoutMs: 500 }, failOnce);
  const made = seqsOf(site.store.append([aircon(0), aircon(1)]));
  site.uplink.start();
  await waitFor('the backlog empty', () => site.store.stats().backlog === 0 || undefined, 15_000);
  const failed = site.logs.filter((line) => line.msg.startsWith('reading store failed'));
  assert.equal(failed.length, 2, 'both failures logged');
  const batchId = `${made[0]}-${made[1]}`;
  assert.ok(copiesOf(cloud, batchId).length >= 2, 'the batch whose ack could not be recorded went again');
  assert.deepEqual(new Set(cloud.batches), new Set([batchId]), 'and nothing else');
});

test('an overloaded cloud gets fewer copies: without an ack each wait doubles up to its cap, and the late ack of the first copy is taken', async () => {
  const brokerUrl = requiredEnv('ECHOLAKE_TEST_MQTT_URL');
  const siteId = `site-backoff-${process.pid}`;
  const cloud = await AckingCloud.start(brokerUrl, siteId, { autoAck: false });
  cleanup.push(() => cloud.stop());
  const site = openRig('backoff', { url: brokerUrl, siteId, ackTimeoutMs: 400, ackTimeoutMaxMs: 1_600 });
  site.store.append([aircon(0), aircon(1)]);
  site.uplink.start();
  await waitFor('five copies', () => cloud.received[4], 15_000);
  const gaps = cloud.received.slice(1, 5).map((batch, i) => batch.receivedAt - (cloud.received[i]?.receivedAt ?? 0));
  for (const [i, least] of [400, 800, 1_600, 1_600].entries()) {
    assert.ok((gaps[i] ?? 0) >= least - 50, `copy ${i + 2} waited at least ${least} ms (gaps ${gaps.join(', ')} ms)`);
  }
  assert.equal(new Set(cloud.batches).size, 1, 'always the same batch');
  cloud.ack(cloud.received[0] as ReceivedBatch);
  await waitFor('the late ack taken', () => site.store.stats().backlog === 0 || undefined, 5_000);
  assert.ok(site.uplink.status().resends >= 4, 'each copy after the first counted as a resend');
});
