// What a stranger on the broker can throw at a site (real Mosquitto, anonymous like a careless
// broker): acks for another site or another batch, floods of malformed ones, messages on topics
// the site never asked for, and a 50 MB PUBLISH on its acks topic, sent to the edge as systemd
// runs it (the unit's 64 MB heap). None of it may move the outbox, fill the log, or kill the edge.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import { ReadingStore } from '../../../edge/buffer/reading-store.js';
import { Uplink, type UplinkOptions } from '../../../edge/uplink/uplink.js';
import { ackFor, encodeAck } from '../../../shared/contract/envelopes.js';
import { siteTopic } from '../../../shared/contract/topics.js';
import { freePorts } from '../../services/processes.js';
import { AckingCloud } from '../../support/acking-cloud.js';
import { Deployable, type LogEvent } from '../../support/deployable.js';
import { unitNodeFlags } from '../../support/edge-node-flags.js';
import { requiredEnv } from '../../support/env.js';
import { aircon } from '../../support/observations.js';
import { sleep, waitFor } from '../../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'echolake-uplink-hostile-'));
const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
  rmSync(dir, { recursive: true, force: true });
});

type LogLine = { msg: string; level: number; [field: string]: unknown };

function openRig(siteId: string, options: Partial<UplinkOptions> & Pick<UplinkOptions, 'url'>): { store: ReadingStore; uplink: Uplink; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const store = ReadingStore.open({ path: join(dir, `${siteId}.db`), siteId, durability: 'NORMAL', maxBytes: 64 * 2 ** 20, historyMs: 3_600_000 }, log);
  const uplink = new Uplink(
    {
      siteId,
      protocolVersion: 5,
      batchMaxReadings: 10,
      batchMaxBytes: 1 << 20,
      batchMaxAgeMs: 0,
      ackTimeoutMs: 60_000,
      ackTimeoutMaxMs: 60_000,
      maxIncomingBytes: 65_536,
      reconnectMinMs: 100,
      reconnectMaxMs: 200,
      ...options,
    },
    store,
    log,
  );
  cleanup.push(() => store.close(), () => uplink.stop());
  return { store, uplink, logs };
}

async function stranger(url: string) {
  const client = await connectAsync(url, { protocolVersion: 5 });
  cleanup.push(() => client.endAsync(true));
  return client;
}

test("acks for another site, for another batch, malformed or on another topic are counted and change nothing; the cloud's own ack still counts", async () => {
  const url = requiredEnv('ECHOLAKE_TEST_MQTT_URL');
  const siteId = `site-forged-${process.pid}`;
  // A session under the edge's client id left subscribed to another site's acks, as a stranger
  // who once took that client id would leave it: the broker hands the edge those messages too.
  const squatter = await connectAsync(url, { protocolVersion: 5, clientId: `echolake-edge-${siteId}`, clean: false, properties: { sessionExpiryInterval: 3600 } });
  await squatter.subscribeAsync(siteTopic('another-site', 'acks'), { qos: 1 });
  await squatter.endAsync();

  const cloud = await AckingCloud.start(url, siteId, { autoAck: false });
  cleanup.push(() => cloud.stop());
  const site = openRig(siteId, { url });
  site.store.append([aircon(0), aircon(1), aircon(2)]);
  const ackedBefore = site.store.stats().ackedThrough;
  site.uplink.start();
  const batch = await waitFor('the batch at the cloud', () => cloud.received[0], 10_000);

  const attacker = await stranger(url);
  const ours = siteTopic(siteId, 'acks');
  await attacker.publishAsync(ours, encodeAck(ackFor('another-site', batch.batchId, batch.seqs[2] ?? 0)), { qos: 1 });
  await attacker.publishAsync(ours, encodeAck(ackFor(siteId, '1-999999', 999_999)), { qos: 1 });
  await attacker.publishAsync(siteTopic('another-site', 'acks'), encodeAck(ackFor(siteId, batch.batchId, batch.seqs[2] ?? 0)), { qos: 1 });
  for (let i = 0; i < 2_000; i += 1) attacker.publish(ours, `{"v":1,"siteId":"${siteId}","batchId":`, { qos: 0 });
  await waitFor('2,000 malformed acks counted', () => site.uplink.status().acksRejected.malformed === 2_000 || undefined, 20_000);

  assert.deepEqual(site.uplink.status().acksRejected, { malformed: 2_000, otherSite: 1, notInFlight: 1, wrongTopic: 1 });
  assert.equal(site.store.stats().ackedThrough, ackedBefore, 'the outbox did not move');
  assert.equal(site.uplink.status().batchesAcknowledged, 0);
  const malformedLines = site.logs.filter((line) => line.msg.startsWith('malformed acknowledgement ignored'));
  assert.equal(malformedLines.length, 1, 'one line for 2,000 malformed acks; the rest counted');

  cloud.ack(batch);
  await waitFor("the cloud's own ack taken", () => site.store.stats().backlog === 0 || undefined, 10_000);
  await site.uplink.stop();
  const summary = site.logs.find((line) => line.repeated !== undefined && line.msg.startsWith('malformed acknowledgement ignored'));
  assert.equal(summary?.repeated, 1_999, 'and the summary, at the latest at stop, gives their number');
});

test('a URL with a password in it is logged without it, and a password over plain mqtt:// is warned about', async () => {
  const broker = new URL(requiredEnv('ECHOLAKE_TEST_MQTT_URL'));
  const [deadPort] = (await freePorts(1)) as [number];
  const secret = `pw-${randomUUID()}`;
  const live = openRig(`site-redact-${process.pid}`, { url: `mqtt://site:${secret}@127.0.0.1:${broker.port}` });
  const dead = openRig(`site-redact-dead-${process.pid}`, { url: `mqtt://site:${secret}@127.0.0.1:${deadPort}` });
  live.uplink.start();
  dead.uplink.start();
  const connected = await waitFor('connected', () => live.logs.find((line) => line.msg === 'uplink connected'), 10_000);
  await waitFor('a failed connect logged', () => dead.logs.find((line) => line.msg === 'uplink error'), 10_000);
  assert.equal(connected.url, `mqtt://127.0.0.1:${broker.port}`);
  for (const site of [live, dead]) {
    assert.ok(site.logs.some((line) => line.msg.startsWith('the site password goes over plain MQTT')), 'warned');
    assert.ok(!JSON.stringify(site.logs).includes(secret), 'the password is in no log line');
  }
});

const payloadOf = (siteId: string, megabytes: number) => `{"v":1,"siteId":"${siteId}","batchId":"${'9'.repeat(megabytes * 1024 * 1024)}","lastSeq":1}`;

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}: a 50 MB PUBLISH on the acks topic does not kill the edge under the unit's heap limit, and the session does not bring it back`, async () => {
    const url = requiredEnv('ECHOLAKE_TEST_MQTT_URL');
    const siteId = `site-50mb-v${protocolVersion}-${process.pid}`;
    const stateDir = mkdtempSync(join(dir, 'state-'));
    const seed = (first: number) => {
      const store = ReadingStore.open({ path: join(stateDir, 'edge.db'), siteId, durability: 'NORMAL', maxBytes: 64 * 2 ** 20, historyMs: 3_600_000 }, pino({ level: 'silent' }));
      store.append([aircon(first), aircon(first + 1)]);
      store.close();
    };
    const cloud = await AckingCloud.start(url, siteId);
    cleanup.push(() => cloud.stop());
    const start = () => {
      const edge = new Deployable(
        'edge',
        'edge/main.ts',
        [],
        {
          LOG_LEVEL: 'info',
          ECHOLAKE_EDGE_SITE_ID: siteId,
          ECHOLAKE_EDGE_STATE_DIR: stateDir,
          ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
          ECHOLAKE_EDGE_ECHONET__PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
          ECHOLAKE_EDGE_API__PORT: '0',
          ECHOLAKE_EDGE_UPLINK__URL: url,
          ECHOLAKE_EDGE_UPLINK__PROTOCOL_VERSION: String(protocolVersion),
          ECHOLAKE_EDGE_UPLINK__BATCH_MAX_AGE_MS: '0',
        },
        unitNodeFlags(),
      );
      cleanup.push(() => edge.stop('SIGKILL'));
      return edge;
    };

    seed(0);
    const first = start();
    await first.waitFor((e) => e.msg === 'batch acknowledged by the cloud', 30_000, 'the first batch through');
    const attacker = await stranger(url);
    await attacker.publishAsync(siteTopic(siteId, 'acks'), payloadOf(siteId, 50), { qos: 1 });
    // 3.1.1 cannot tell the broker a limit: the guard drops the packet as it streams in. MQTT 5:
    // the broker knows the limit from CONNECT and does not send the packet at all.
    const drop = (e: LogEvent) => e.msg === 'oversized packet from the broker dropped unread (acknowledged so the broker forgets it)';
    const died = first.exited.then((code) => `exited with ${code}`);
    const survived = protocolVersion === 4 ? first.waitFor(drop, 30_000, 'the drop').then(() => 'running') : sleep(3_000).then(() => 'running');
    assert.equal(await Promise.race([died, survived]), 'running', `the edge is alive\n${first.tail()}`);
    if (protocolVersion === 4) assert.ok(Number(first.events.find(drop)?.bytes) > 50 * 1024 * 1024, 'the drop names the size');
    assert.equal(await first.stop('SIGTERM'), 0, 'and stops cleanly');

    seed(2);
    const second = start();
    await second.waitFor((e) => e.msg === 'batch acknowledged by the cloud', 30_000, 'a batch through after the restart');
    await sleep(2_000);
    assert.equal(second.events.filter((e) => String(e.msg).startsWith('oversized packet')).length, 0, 'the session did not hand the packet over again');
    assert.equal(second.events.filter((e) => e.level !== undefined && e.level >= 50).length, 0, `no error after the restart\n${second.tail()}`);
  });
}
