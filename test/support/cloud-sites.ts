// Site registries and the embedded broker as the cloud builds them, for tests: real secrets,
// real scrypt hashes, real files.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { Logger } from '../../shared/log.js';
import { EmbeddedBroker } from '../../cloud/broker/embedded-broker.js';
import type { BrokerConfig } from '../../cloud/broker/config.js';
import { SiteAuthorizer } from '../../cloud/sites/authorizer.js';
import { writeRegistryFile } from '../../cloud/sites/file-registry.js';
import { StaticSiteRegistry, type Site } from '../../cloud/sites/registry.js';
import { hashSecret, mosquittoHash } from '../../cloud/sites/secrets.js';

/** The cloud's MQTT user in tests. */
export const CLOUD_USER = 'echolake-cloud';
export const CLOUD_PASSWORD = 'cloud-test-password-0123456789';

/** A site with one known secret (`secret-of-<id>`), hashed as the registry keeps it. */
export async function testSite(id: string, overrides: Partial<Site> = {}): Promise<Site> {
  const secret = testSecret(id);
  return {
    id,
    name: `Site ${id}`,
    enabled: true,
    timeZone: 'Asia/Tokyo',
    thresholds: {},
    secrets: [{ id: 's1', scrypt: await hashSecret(secret), mosquitto: await mosquittoHash(secret), createdAt: new Date().toISOString() }],
    ...overrides,
  };
}

export const testSecret = (siteId: string): string => `secret-of-${siteId}`;

/** A registry file holding these sites, for a cloud process (`ECHOLAKE_CLOUD_SITES__FILE`). */
export async function writeTestRegistry(dir: string, siteIds: string[]): Promise<string> {
  const file = join(dir, 'sites.yaml');
  writeRegistryFile(file, { sites: await Promise.all(siteIds.map((id) => testSite(id))) });
  return file;
}

/** The environment a cloud process in a test needs besides its Kafka and MQTT settings. */
export async function cloudTestEnv(dir: string, siteIds: string[]): Promise<Record<string, string>> {
  const passwordFile = join(dir, 'cloud.password');
  writeFileSync(passwordFile, CLOUD_PASSWORD, { mode: 0o600 });
  return {
    ECHOLAKE_CLOUD_SITES__FILE: await writeTestRegistry(dir, siteIds),
    ECHOLAKE_CLOUD_MQTT__USERNAME: CLOUD_USER,
    ECHOLAKE_CLOUD_MQTT__PASSWORD_FILE: passwordFile,
    ECHOLAKE_CLOUD_API__PORT: '0',
  };
}

/** The embedded broker with these sites and the test cloud user, on a free port. */
export async function startTestBroker(sites: Site[], log: Logger, config: Partial<BrokerConfig> = {}): Promise<EmbeddedBroker> {
  const authorizer = new SiteAuthorizer(new StaticSiteRegistry(sites), { username: CLOUD_USER, password: CLOUD_PASSWORD });
  const broker = new EmbeddedBroker(
    { enabled: true, host: '127.0.0.1', port: 0, tls: {}, maxPacketBytes: 1024 * 1024, maxQueuedPerClient: 100, concurrency: 10_000, ...config },
    authorizer,
    new Registry(),
    log,
  );
  await broker.start();
  return broker;
}

/** mqtt.js options of the cloud's own client in tests. */
export const cloudClientOptions = (run: string) => ({ username: CLOUD_USER, password: CLOUD_PASSWORD, clientId: `echolake-cloud-test-${run}` });
