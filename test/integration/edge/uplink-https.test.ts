// The uplink over HTTPS against a real HTTPS server on loopback (node:https, certificates from a
// throwaway CA, the site's client certificate required): the same one-batch-in-flight protocol
// as over MQTT, and each of the cloud's answers. The end-to-end run with the real cloud is in the
// cloud's tests.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { ReadingStore } from '../../../edge/buffer/reading-store.js';
import { Uplink, type UplinkOptions } from '../../../edge/uplink/uplink.js';
import { ackFor, encodeAck } from '../../../shared/contract/envelopes.js';
import type { ReadingBatch } from '../../../shared/reading.js';
import { makeTestPki, type TestPki } from '../../support/certificates.js';
import { aircon } from '../../support/observations.js';
import { sleep, waitFor } from '../../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'echolake-uplink-https-'));
const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
  rmSync(dir, { recursive: true, force: true });
});

const pki = makeTestPki(mkdtempSync(join(dir, 'pki-')));
const SECRET = 'site secret, from a file';
const secretFile = join(dir, 'uplink.password');
writeFileSync(secretFile, `${SECRET}\n`);

interface Received {
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  clientCertificate: string | undefined;
  batch: ReadingBatch;
  at: number;
}

type Answer = (batch: ReadingBatch, res: ServerResponse) => void;

const ackOf = (batch: ReadingBatch) => ackFor(batch.siteId, batch.batchId, batch.readings[batch.readings.length - 1]?.seq ?? 0);
const okAnswer: Answer = (batch, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(encodeAck(ackOf(batch)));
const status = (code: number, headers: Record<string, string> = {}, body = '{"error":{"code":"x","message":"y"}}'): Answer => (_batch, res) => res.writeHead(code, { 'content-type': 'application/json', ...headers }).end(body);

/** The cloud's HTTPS route at its plainest: records each request; answers from a script, then 200 with the ack. */
class FakeCloud {
  readonly received: Received[] = [];
  readonly script: Answer[] = [];

  private constructor(readonly server: Server) {}

  static async start(certs: TestPki = pki): Promise<FakeCloud> {
    const server = createServer({
      key: readFileSync(certs.serverKeyFile),
      cert: readFileSync(certs.serverCertFile),
      ca: readFileSync(pki.caFile),
      requestCert: true,
      rejectUnauthorized: true,
    });
    const cloud = new FakeCloud(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void cloud.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => server.close(resolve)), () => server.closeAllConnections());
    return cloud;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}/ingest`;
  }

  get batches(): string[] {
    return this.received.map((r) => r.batch.batchId);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReadingBatch;
    const commonName = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
    this.received.push({
      path: req.url ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      clientCertificate: Array.isArray(commonName) ? commonName[0] : commonName,
      batch,
      at: Date.now(),
    });
    (this.script.shift() ?? okAnswer)(batch, res);
  }
}

interface Rig {
  siteId: string;
  store: ReadingStore;
  uplink: Uplink;
  logs: Array<{ msg: string; level: number; err?: { code?: string; message?: string }; [field: string]: unknown }>;
}

let rigs = 0;
function openRig(url: string, options: Partial<UplinkOptions> = {}): Rig {
  const logs: Rig['logs'] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Rig['logs'][number]) });
  const siteId = `site-https-${(rigs += 1)}`;
  const store = ReadingStore.open({ path: join(dir, `${siteId}.db`), siteId, durability: 'NORMAL', maxBytes: 64 * 2 ** 20, historyMs: 3_600_000 }, log);
  const uplink = new Uplink(
    {
      url,
      siteId,
      protocolVersion: 5,
      passwordFile: secretFile,
      tls: { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile },
      batchMaxReadings: 10,
      batchMaxBytes: 1 << 20,
      batchMaxAgeMs: 0,
      ackTimeoutMs: 5_000,
      ackTimeoutMaxMs: 20_000,
      maxIncomingBytes: 65_536,
      reconnectMinMs: 200,
      reconnectMaxMs: 400,
      ...options,
    },
    store,
    log,
  );
  cleanup.push(() => store.close(), () => uplink.stop());
  return { siteId, store, uplink, logs };
}

const fill = (site: Rig, count: number) => site.store.append(Array.from({ length: count }, (_, i) => aircon(i % 4))).map((r) => r.seq);
const drained = (site: Rig) => site.store.stats().backlog === 0 || undefined;

test("batches go one at a time as POST {url}/v1/sites/{id}/readings with the site's secret as bearer, and each 200 ack lets the next go", async () => {
  const cloud = await FakeCloud.start();
  const site = openRig(cloud.url);
  const seqs = fill(site, 25);
  site.uplink.start();
  await waitFor('every reading acknowledged', () => drained(site), 15_000);

  assert.deepEqual(cloud.batches, [`${seqs[0]}-${seqs[9]}`, `${seqs[10]}-${seqs[19]}`, `${seqs[20]}-${seqs[24]}`], 'oldest first, each once');
  for (const request of cloud.received) {
    assert.equal(request.path, `/ingest/v1/sites/${site.siteId}/readings`);
    assert.equal(request.authorization, `Bearer ${SECRET}`, 'the secret from passwordFile, less its trailing newline');
    assert.equal(request.contentType, 'application/json');
    assert.equal(request.clientCertificate, 'site-tls', "the site's client certificate");
  }
  assert.deepEqual(cloud.received.flatMap((r) => r.batch.readings.map((reading) => reading.seq)), seqs);
  const status = site.uplink.status();
  assert.equal(status.transport, 'https');
  assert.equal(status.state, 'connected');
  assert.equal(status.batchesAcknowledged, 3);
  assert.equal(status.resends, 0);
});

test('401 or 403: said plainly, once, the batch kept and sent again with backoff until the secret is accepted', async () => {
  const cloud = await FakeCloud.start();
  cloud.script.push(status(401), status(403), status(401));
  const site = openRig(cloud.url);
  fill(site, 3);
  site.uplink.start();
  await waitFor('the batch delivered after the refusals', () => drained(site), 15_000);
  assert.equal(new Set(cloud.batches).size, 1, 'the same batch each time');
  assert.equal(cloud.received.length, 4);
  const refusals = site.logs.filter((line) => line.msg.startsWith("the cloud refused this site's credentials"));
  assert.equal(refusals.length, 1, 'one line, the repeats summarised');
  assert.equal(refusals[0]?.level, 50, 'at error level');
  assert.equal(site.uplink.status().link.credentialsRefused, 3);
  const gaps = cloud.received.slice(1).map((r, i) => r.at - (cloud.received[i]?.at ?? 0));
  assert.ok(gaps.every((gap) => gap >= 100), `backoff between attempts, at least half of reconnectMinMs (${gaps.join(', ')} ms)`);
  assert.ok(!JSON.stringify(site.logs).includes(SECRET), 'the secret is in no log line');
});

test('413: the batch is halved and sent again at once, and later batches stay halved', async () => {
  const cloud = await FakeCloud.start();
  cloud.script.push(status(413));
  const site = openRig(cloud.url);
  const seqs = fill(site, 20);
  site.uplink.start();
  await waitFor('every reading acknowledged', () => drained(site), 15_000);
  assert.deepEqual(cloud.received.map((r) => r.batch.readings.length), [10, 5, 5, 5, 5]);
  assert.deepEqual(cloud.received.slice(1).flatMap((r) => r.batch.readings.map((reading) => reading.seq)), seqs, 'every reading once after the refusal, in order');
  assert.equal(site.uplink.status().link.tooLarge, 1);
});

test('429 and 503 wait for Retry-After; other failures and a cut connection back off; the same batch goes until acknowledged', async () => {
  const cloud = await FakeCloud.start();
  const cut: Answer = (_batch, res) => res.socket?.destroy();
  cloud.script.push(status(429, { 'retry-after': '1' }), status(503), status(500), cut);
  const site = openRig(cloud.url);
  fill(site, 4);
  site.uplink.start();
  await waitFor('the batch delivered', () => drained(site), 20_000);
  assert.equal(cloud.received.length, 5);
  assert.equal(new Set(cloud.batches).size, 1);
  const [first, second] = cloud.received;
  assert.ok(first !== undefined && second !== undefined);
  assert.ok(second.at - first.at >= 1_000, `Retry-After: 1 honoured (${second.at - first.at} ms)`);
  const link = site.uplink.status().link;
  assert.equal(link.throttled, 2);
  assert.equal(link.failed, 2);
});

test('422 with an ack (dead_lettered): the ack counts, and the error is logged; 422 without one: kept and sent again', async () => {
  const cloud = await FakeCloud.start();
  cloud.script.push(status(422, {}, '{"error":{"code":"invalid_request","message":"contract v2: this cloud reads v1"}}'));
  cloud.script.push((batch, res) =>
    res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'dead_lettered', message: 'readings[0].ts is not a date' }, ack: ackOf(batch) })),
  );
  const site = openRig(cloud.url);
  fill(site, 12);
  site.uplink.start();
  await waitFor('every reading acknowledged', () => drained(site), 15_000);
  assert.equal(cloud.received.length, 3, 'the batch again after the plain 422; the dead-lettered one not again');
  assert.equal(cloud.received[0]?.batch.batchId, cloud.received[1]?.batch.batchId);
  assert.notEqual(cloud.received[1]?.batch.batchId, cloud.received[2]?.batch.batchId);
  const line = site.logs.find((l) => l.msg.startsWith('the cloud kept the batch as a dead letter'));
  assert.equal(line?.level, 50);
  assert.equal(line?.reason, 'readings[0].ts is not a date');
  assert.equal(site.uplink.status().link.deadLettered, 1);
});

test("a 200 whose ack names another batch or site is not taken: the batch goes again", async () => {
  const cloud = await FakeCloud.start();
  cloud.script.push(
    (batch, res) => res.writeHead(200).end(encodeAck(ackFor('someone-else', batch.batchId, 1))),
    (_batch, res) => res.writeHead(200).end(encodeAck(ackFor('x', '1-1', 1))),
  );
  const site = openRig(cloud.url);
  fill(site, 2);
  site.uplink.start();
  await waitFor('the batch delivered', () => drained(site), 15_000);
  assert.equal(cloud.received.length, 3);
  assert.equal(site.uplink.status().acksRejected.otherSite, 2);
});

test('an answer slower than the ack timeout: the request is abandoned and the batch sent again', async () => {
  const cloud = await FakeCloud.start();
  const held: ServerResponse[] = [];
  cloud.script.push((_batch, res) => void held.push(res));
  const site = openRig(cloud.url, { ackTimeoutMs: 500 });
  fill(site, 2);
  site.uplink.start();
  await waitFor('the batch delivered', () => drained(site), 15_000);
  assert.equal(cloud.received.length, 2);
  assert.equal(site.uplink.status().resends, 1);
  for (const res of held) res.destroy();
});

test("a cloud certificate the configured CA did not sign is refused before anything is sent", async () => {
  const stranger = makeTestPki(mkdtempSync(join(dir, 'stranger-')));
  const cloud = await FakeCloud.start(stranger);
  const site = openRig(cloud.url);
  fill(site, 2);
  site.uplink.start();
  const refused = await waitFor('the TLS refusal', () => site.logs.find((l) => l.msg.startsWith('cloud not reachable over HTTPS')), 10_000);
  assert.match(refused.err?.code ?? '', /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  await sleep(500);
  assert.equal(cloud.received.length, 0);
  assert.equal(site.uplink.status().state, 'disconnected');
});

test('a secret no HTTP header can carry (a line break inside) fails the start with the reason, rather than each batch', () => {
  const broken = join(dir, 'broken-password');
  writeFileSync(broken, 'first line\nsecond line\n');
  const site = openRig('https://127.0.0.1:9/ingest', { passwordFile: broken });
  assert.throws(() => site.uplink.start(), /the site secret holds a character an HTTP header cannot carry.*uplink\.passwordFile/);
});
