// The embedded broker's answer when secret checks are at their limit: a real aedes broker on
// loopback, real mqtt.js clients, real site secrets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectAsync } from 'mqtt';
import { Registry } from 'prom-client';
import { EmbeddedBroker } from '../../../../cloud/broker/embedded-broker.js';
import { SiteAuthorizer } from '../../../../cloud/sites/authorizer.js';
import { StaticSiteRegistry } from '../../../../cloud/sites/registry.js';
import { DEFAULT_VERIFICATION_LIMITS, type VerificationLimits } from '../../../../cloud/sites/verification-limit.js';
import { silentLogger } from '../../../../shared/log.js';
import { CLOUD_PASSWORD, CLOUD_USER, testSecret, testSite } from '../../../support/cloud-sites.js';

/** Records the source address each secret check was asked for. */
class RecordingAuthorizer extends SiteAuthorizer {
  sources: Array<string | undefined> = [];

  override authenticate(username: string, secret: string, source?: string): ReturnType<SiteAuthorizer['authenticate']> {
    this.sources.push(source);
    return super.authenticate(username, secret, source);
  }
}

async function start(limits: VerificationLimits) {
  const metrics = new Registry();
  const authorizer = new RecordingAuthorizer(new StaticSiteRegistry([await testSite('a')]), { username: CLOUD_USER, password: CLOUD_PASSWORD }, limits);
  const config = { enabled: true, host: '127.0.0.1', port: 0, tls: {}, maxPacketBytes: 1024 * 1024, maxQueuedPerClient: 100, concurrency: 100 };
  const broker = new EmbeddedBroker(config, authorizer, metrics, silentLogger());
  await broker.start();
  return { broker, authorizer, metrics };
}

async function refusedConnects(metrics: Registry, reason: string): Promise<number> {
  const values = (await metrics.getSingleMetric('echolake_broker_refused_total')?.get())?.values ?? [];
  return values.find((value) => value.labels.action === 'connect' && value.labels.reason === reason)?.value ?? 0;
}

test('secret checks at their limit: CONNACK "server unavailable" (the client comes back), counted as busy', async () => {
  const { broker, metrics } = await start({ ...DEFAULT_VERIFICATION_LIMITS, maxConcurrent: 0, maxWaiting: 0 });
  try {
    const outcome = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'echolake-edge-a', username: 'a', password: testSecret('a'), reconnectPeriod: 0 }).then(
      async (client) => {
        await client.endAsync(true);
        return 'accepted';
      },
      (err: Error) => err.message,
    );
    assert.match(outcome, /Server unavailable/);
    assert.equal(await refusedConnects(metrics, 'busy'), 1);
  } finally {
    await broker.stop();
  }
});

test('the broker hands the client\'s address to the secret check, so one source gets only its share', async () => {
  const { broker, authorizer } = await start(DEFAULT_VERIFICATION_LIMITS);
  try {
    const client = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'echolake-edge-a', username: 'a', password: testSecret('a'), reconnectPeriod: 0 });
    await client.endAsync(true);
    assert.deepEqual(authorizer.sources, ['127.0.0.1']);
  } finally {
    await broker.stop();
  }
});
