import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import type { Alert } from '../../../../cloud/alerts/alert.js';
import { AlertMetrics } from '../../../../cloud/alerts/metrics.js';
import { newSilence, Silences } from '../../../../cloud/alerts/silences.js';
import { WebhookNotifier } from '../../../../cloud/alerts/webhook.js';
import { silentLogger } from '../../../../shared/log.js';

// The notifier's delivery on a real HTTP receiver on loopback; its Kafka consumer is never started here.
const answers: number[] = [];
const received: Array<{ key: string; body: Alert }> = [];
const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    const status = answers.shift() ?? 204;
    if (status < 300) received.push({ key: String(request.headers['idempotency-key']), body: JSON.parse(body) as Alert });
    response.writeHead(status).end();
  });
});
let url = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
after(() => server.close());

const alert: Alert = {
  v: 1, id: 'a'.repeat(32), state: 'firing', rule: 'aircon-fault', ruleType: 'instant', severity: 'critical', summary: 'fault', scope: 'device',
  siteId: 'osaka', deviceId: 'dev-1', site: { name: 'Osaka', timeZone: 'Asia/Tokyo', location: null }, cause: 'condition',
  startsAt: '2026-01-01T00:00:00.000Z', endsAt: null, windowStart: null, windowEnd: null, value: true, threshold: true,
};

function notifier(silences = new Silences(), target = url): WebhookNotifier {
  const kafka = new Kafka({ clientId: 'unit', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
  const settings = { url: target, groupId: 'unit', topic: 'alerts', timeoutMs: 1000, backoffMs: 10, maxBackoffMs: 40, maxAttempts: 4, sessionTimeoutMs: 10_000, onFatal: () => undefined };
  return new WebhookNotifier(kafka, settings, silences, new AlertMetrics(new Registry()), silentLogger());
}
const beat = () => Promise.resolve();

test('retries a failing receiver, then delivers once per alert and state', async () => {
  received.length = 0;
  answers.push(503, 500);
  const webhook = notifier();
  assert.equal(await webhook.notify(alert, beat), 'sent');
  assert.equal(await webhook.notify(alert, beat), 'duplicate');
  assert.equal(await webhook.notify({ ...alert, state: 'resolved' }, beat), 'sent');
  assert.deepEqual(received.map((r) => r.key), [`${alert.id}:firing`, `${alert.id}:resolved`]);
  assert.deepEqual(received[0]!.body, alert);
});

test('a receiver refusing the request (4xx) is not retried; a dead one is given up after maxAttempts', async () => {
  received.length = 0;
  answers.push(400);
  assert.equal(await notifier().notify(alert, beat), 'rejected');
  answers.push(503, 503, 503, 503);
  assert.equal(await notifier().notify(alert, beat), 'failed');
  assert.equal(answers.length, 0, 'four attempts');
  assert.equal(await notifier(new Silences(), 'http://127.0.0.1:1/hook').notify(alert, beat), 'failed', 'nobody listening');
  assert.equal(received.length, 0);
});

test('a silenced alert is not sent', async () => {
  received.length = 0;
  const silences = new Silences();
  const silence = newSilence({ siteId: 'osaka', until: new Date(Date.now() + 60_000).toISOString(), comment: 'on site' }, 'ops', Date.now());
  assert.ok(!('problem' in silence));
  silences.apply(silence.id, silence, Date.now());
  assert.equal(await notifier(silences).notify(alert, beat), 'silenced');
  assert.equal(received.length, 0);
});
