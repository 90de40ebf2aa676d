import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createHmac } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { ConfigError } from '../shared/config.js';
import type { Component, Shutdown } from '../shared/lifecycle.js';
import type { Logger } from '../shared/log.js';
import type { CloudConfig } from './config.js';
import type { ReadinessProbe } from './http/server.js';
import { createKafka } from './kafka/client.js';
import type { ObjectStore } from './lake/storage/object-store.js';
import { openTableStore } from './lake/storage/open-store.js';
import { SiteAuthorizer } from './sites/authorizer.js';
import { FileSiteRegistry, RegistryFileError } from './sites/file-registry.js';
import type { SiteRegistry } from './sites/registry.js';
import { SiteStatusBoard } from './sites/status-board.js';
import type { CloudMqttCredentials } from './ingest/mqtt-client-options.js';

/** What every role may use; a role sees this and its own config fragment, nothing of the other roles. */
export interface CloudContext {
  readonly log: Logger;
  readonly config: CloudConfig;
  readonly version: string;
  readonly kafka: Kafka;
  readonly sites: SiteRegistry;
  /** Who may connect, publish and subscribe: the embedded broker and the HTTPS ingest ask it. */
  readonly authorizer: SiteAuthorizer;
  /** Live per-site state (last batch, last seq, the edge's reported backlog) for the API and metrics. */
  readonly siteStatus: SiteStatusBoard;
  /** The cloud's own MQTT credentials (password from `mqtt.password` or `mqtt.passwordFile`). */
  readonly cloudMqtt: CloudMqttCredentials;
  readonly metrics: Registry;
  /** The object store of one lake table under `lake.root` (a local folder or S3), one per table for the process. */
  tableStore(table: string): ObjectStore;
  /** Adds a check `/readyz` runs. */
  readiness(name: string, probe: ReadinessProbe): void;
  /** A part that cannot go on: the orderly reverse stop, then exit 1 so the supervisor restarts us. */
  fatal(err: Error): void;
}

export interface BuiltContext {
  context: CloudContext;
  probes: ReadonlyMap<string, ReadinessProbe>;
  /** The context's own parts (the site registry's file watch), started before any role. */
  components: Component[];
}

export function buildContext(config: CloudConfig, version: string, shutdown: Shutdown, log: Logger): BuiltContext {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const registry = new FileSiteRegistry(config.sites.file, config.sites.reloadCheckMs, log.child({ part: 'sites' }));
  new Gauge({
    name: 'echolake_sites_rejected_reloads',
    help: 'changes of the site registry file refused as invalid since start',
    registers: [metrics],
    collect() {
      this.set(registry.rejectedReloads);
    },
  });
  const password = cloudPassword(config);
  const cloudMqtt = { username: config.mqtt.username, password, clientId: cloudClientId(config, password) };
  const probes = new Map<string, ReadinessProbe>();
  const tableStores = new Map<string, ObjectStore>();
  const context: CloudContext = {
    log,
    config,
    version,
    kafka: createKafka(config.kafka, log.child({ part: 'kafka' })),
    sites: registry,
    authorizer: new SiteAuthorizer(registry, cloudMqtt),
    siteStatus: new SiteStatusBoard(registry, metrics),
    cloudMqtt,
    metrics,
    tableStore(table) {
      let store = tableStores.get(table);
      if (store === undefined) {
        store = openTableStore(config.lake.root, table, config.lake.s3);
        tableStores.set(table, store);
      }
      return store;
    },
    readiness: (name, probe) => probes.set(name, probe),
    fatal: (err) => shutdown.request(err),
  };
  const sitesPart: Component = {
    name: 'site-registry',
    start: () => {
      try {
        registry.start();
      } catch (err) {
        if (err instanceof RegistryFileError) throw new ConfigError([`sites.file: ${err.message}`]);
        throw err;
      }
    },
    stop: () => registry.stop(),
  };
  return { context, probes, components: [sitesPart] };
}

function cloudPassword(config: CloudConfig): string | undefined {
  if (config.mqtt.passwordFile === undefined) return config.mqtt.password;
  return readFileSync(config.mqtt.passwordFile, 'utf8').trim();
}

/**
 * Stable per host (a restart resumes its MQTT session) yet not guessable without the cloud's
 * password: a client that could guess it could take over the ingest's session at a broker that
 * does not tie client ids to users.
 */
function cloudClientId(config: CloudConfig, password: string | undefined): string {
  if (config.mqtt.clientId !== '') return config.mqtt.clientId;
  const tag = createHmac('sha256', password ?? 'no-password').update(hostname()).digest('hex').slice(0, 12);
  return `echolake-cloud-ingest-${hostname()}-${tag}`.slice(0, 128);
}
