// The embedded broker (cloud/broker/embedded-broker.ts) in a process of its own for `npm run bench
// ingest`, so its CPU and RSS are told apart from the ingest's. argv: REGISTRY_FILE AUTH, AUTH being
// `sites` (the cloud's SiteAuthorizer over the registry) or `allow-all` (an authorizer that lets
// every client do everything: the baseline that shows what per-site auth costs). Logs
// 'embedded mqtt broker listening' with its url; stops on SIGTERM.
import { Registry } from 'prom-client';
import { EmbeddedBroker } from '../../cloud/broker/embedded-broker.js';
import { readRegistryFile } from '../../cloud/sites/file-registry.js';
import { SiteAuthorizer, type Decision, type Identity, type Refusal } from '../../cloud/sites/authorizer.js';
import { StaticSiteRegistry } from '../../cloud/sites/registry.js';
import { createLogger } from '../../shared/log.js';
import { CLOUD_PASSWORD, CLOUD_USER } from '../../test/support/cloud-sites.js';

const ALLOWED: Decision = { ok: true };

/** Every client is who it says it is and may do anything: no hash, no ACL. Bench only. */
class AllowAllAuthorizer extends SiteAuthorizer {
  override authenticate(username: string): Promise<{ ok: true; identity: Identity } | { ok: false; reason: Refusal; detail: string }> {
    const identity: Identity = username === CLOUD_USER ? { kind: 'cloud' } : { kind: 'site', siteId: username };
    return Promise.resolve({ ok: true, identity });
  }

  override clientId(): Decision {
    return ALLOWED;
  }

  override publish(): Decision {
    return ALLOWED;
  }

  override subscribe(): Decision {
    return ALLOWED;
  }
}

const [registryFile, auth] = process.argv.slice(2);
if (registryFile === undefined || (auth !== 'sites' && auth !== 'allow-all')) {
  console.error('usage: ingest-broker-child.ts REGISTRY_FILE sites|allow-all');
  process.exit(2);
}
const log = createLogger('bench-broker');
const sites = new StaticSiteRegistry(readRegistryFile(registryFile).sites);
const cloud = { username: CLOUD_USER, password: CLOUD_PASSWORD };
const authorizer = auth === 'sites' ? new SiteAuthorizer(sites, cloud) : new AllowAllAuthorizer(sites, cloud);
const broker = new EmbeddedBroker(
  // The cloud's defaults, but a queue per offline client large enough for a site fleet's batches;
  // ECHOLAKE_BENCH_BROKER_CONCURRENCY compares aedes's own default (100) with the cloud's.
  {
    enabled: true,
    host: '127.0.0.1',
    port: 0,
    tls: {},
    maxPacketBytes: 6 * 1024 * 1024,
    maxQueuedPerClient: 1000,
    concurrency: Number(process.env.ECHOLAKE_BENCH_BROKER_CONCURRENCY ?? 10_000),
  },
  authorizer,
  new Registry(),
  log,
);
await broker.start();
process.once('SIGTERM', () => {
  void broker.stop().finally(() => process.exit(0));
});
