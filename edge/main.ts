#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectVersion } from '../shared/version.js';
import { createApiServer } from './api/server.js';
import { apiSources } from './api-sources.js';
import { runDeployable, type Component } from '../shared/lifecycle.js';
import { createLogger } from '../shared/log.js';
import { GroupCommit } from './buffer/group-commit.js';
import { storeMaintenance } from './buffer/maintenance.js';
import { ReadingStore } from './buffer/reading-store.js';
import { loadEdgeConfig, type EdgeConfig } from './config.js';
import { EchonetController } from './echonet/controller.js';
import { SystemdNotifier } from './supervision/systemd-notify.js';
import { Uplink } from './uplink/uplink.js';

const MAINTENANCE_INTERVAL_MS = 60_000;

const log = createLogger('edge');

/**
 * The edge's parts in start order; data flows one way: controller → group commit → store → uplink.
 * Stopping runs backwards: polling stops first, the last readings are committed, then the link
 * and the database close.
 */
function components(config: EdgeConfig): Component[] {
  mkdirSync(config.stateDir, { recursive: true });
  const store = ReadingStore.open(
    {
      path: join(config.stateDir, 'edge.db'),
      siteId: config.siteId,
      durability: config.buffer.durability,
      maxBytes: config.buffer.maxBytes,
      historyMs: config.buffer.historyHours * 3_600_000,
    },
    log.child({ part: 'buffer', siteId: config.siteId }),
  );
  const uplink = new Uplink({ ...config.uplink, siteId: config.siteId }, store, log.child({ part: 'uplink' }));
  let recorded = 0;
  const commits = new GroupCommit(
    store,
    config.buffer.commitIntervalMs,
    (readings) => {
      recorded += readings.length;
      uplink.notify();
    },
    log.child({ part: 'buffer', siteId: config.siteId }),
  );
  const controller = new EchonetController({
    interfaceAddress: config.echonet.interface,
    port: config.echonet.port,
    pollIntervalMs: config.echonet.pollIntervalMs,
    searchIntervalMs: config.echonet.searchIntervalMs,
    requestTimeoutMs: config.echonet.requestTimeoutMs,
    maxRetries: config.echonet.retries,
    maxBatchSize: config.echonet.maxEpcsPerGet,
    staticAddresses: config.echonet.staticAddresses,
    logger: log.child({ part: 'echonet', siteId: config.siteId }),
  });
  controller.on('observation', (observation) => commits.add(observation));
  const parts: Component[] = [
    { name: 'buffer', start: () => undefined, stop: () => store.close() },
    storeMaintenance(store, MAINTENANCE_INTERVAL_MS, log.child({ part: 'buffer' })),
    { name: 'uplink', start: () => uplink.start(), stop: () => uplink.stop() },
    { name: 'group-commit', start: () => undefined, stop: () => commits.flush() },
    { name: 'echonet', start: () => controller.start(), stop: () => controller.stop() },
  ];
  if (config.api.enabled) {
    const sources = apiSources({ siteId: config.siteId, startedAt: Date.now(), controller, store, uplink, recorded: () => recorded });
    const api = { host: config.api.host ?? config.echonet.interface, port: config.api.port, token: config.api.token, version: projectVersion() };
    parts.push(createApiServer(api, sources, log.child({ part: 'api' })));
  }
  const notifier = SystemdNotifier.fromEnvironment(process.env, log.child({ part: 'systemd' }));
  if (notifier !== undefined) {
    notifier.healthCheck = () => store.health();
    // Last to start, first to stop: READY=1 only once the database is open and the sockets are bound.
    parts.push({ name: 'systemd-notify', start: () => notifier.ready(`site ${config.siteId}`), stop: () => notifier.stopping() });
  }
  return parts;
}

runDeployable(
  {
    name: 'echolake-edge',
    log,
    loadConfig: (file, overrides) => loadEdgeConfig(file, process.env, overrides),
    components,
    describe: (config) => ({ siteId: config.siteId, stateDir: config.stateDir, interface: config.echonet.interface }),
  },
  process.argv.slice(2),
);
