#!/usr/bin/env node
import { runDeployable, type Component, type Shutdown } from '../shared/lifecycle.js';
import { createLogger } from '../shared/log.js';
import { redactUrl } from '../shared/redact.js';
import { projectVersion } from '../shared/version.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import { runCloudCommand } from './cli/commands.js';
import { loadCloudConfig, plainTextWarnings, type CloudConfig } from './config.js';
import { buildContext } from './context.js';
import { servedOverHttps } from './http/config.js';
import { CloudApiServer, createCloudApp, registerBaseRoutes } from './http/server.js';
import { operatorAuth } from './http/auth.js';
import { dashboardRoutes } from './http/dashboard.js';
import { pipelineRoutes } from './http/pipeline.js';
import { ensureTopics, kafkaReachable } from './kafka/client.js';
import { ConsumerLagProbe, type WatchedGroup } from './kafka/lag.js';
import { ingestRole } from './roles/ingest.js';
import { alertsRole } from './roles/alerts.js';
import { commandsRole } from './roles/commands.js';
import { lakeRole } from './roles/lake.js';
import { sharingRole } from './roles/sharing.js';
import type { Role } from './roles/role.js';
import { siteRoutes } from './sites/routes.js';

const log = createLogger('cloud');

/** Every role this image can run; `roles.<name>` in the configuration switches each on. */
const ROLES: Role[] = [ingestRole(), lakeRole(), alertsRole(), sharingRole(), commandsRole()];

/** The context's parts, the embedded broker, the topics, the enabled roles, and the API last. */
function components(config: CloudConfig, shutdown: Shutdown): Component[] {
  const built = buildContext(config, projectVersion(), shutdown, log);
  const { context } = built;
  const roles = ROLES.filter((role) => role.enabled(config));
  for (const warning of plainTextWarnings(config)) log.warn(warning);
  const parts: Component[] = [...built.components];
  if (config.broker.enabled) {
    const broker = new EmbeddedBroker(config.broker, context.authorizer, context.metrics, log.child({ part: 'mqtt-broker' }));
    parts.push({ name: 'mqtt-broker', start: () => broker.start(), stop: () => broker.stop() });
  }
  parts.push({ name: 'kafka-topics', start: () => ensureTopics(context.kafka, config.kafka), stop: () => undefined });
  context.readiness('kafka', kafkaReachable(context.kafka));
  for (const role of roles) parts.push(...role.components(context));
  if (config.api.enabled) {
    const app = createCloudApp(config.api, projectVersion(), log.child({ part: 'api' }));
    registerBaseRoutes(app, built.probes, context.metrics);
    void app.register(siteRoutes, { sites: context.sites, status: context.siteStatus, operatorAuth: operatorAuth(config.api.operators) });
    for (const role of roles) role.routes?.(app, context);
    const lag = new ConsumerLagProbe(context.kafka, watchedGroups(config), LAG_PROBE, log.child({ part: 'consumer-lag' }));
    parts.push({ name: 'consumer-lag', start: () => undefined, stop: () => lag.stop() });
    void app.register(pipelineRoutes, { metrics: context.metrics, operatorAuth: operatorAuth(config.api.operators), lag: () => lag.read() });
    void app.register(dashboardRoutes, { operators: config.api.operators, secure: servedOverHttps(config.api) });
    const api = new CloudApiServer(app, config.api, log.child({ part: 'api' }));
    parts.push(api);
  }
  return parts;
}

/** The pipeline panel asks Kafka at most every 10 s, and gives up after 3 s. */
const LAG_PROBE = { cacheMs: 10_000, timeoutMs: 3_000 };

/** The groups whose lag the pipeline panel shows: the lake's and the alert engine's, on the readings topic. */
function watchedGroups(config: CloudConfig): WatchedGroup[] {
  return [
    { role: 'lake', groupId: config.lake.groupId, topic: config.kafka.topics.readings },
    { role: 'alerts', groupId: config.alerts.groupId, topic: config.kafka.topics.readings },
  ];
}

const argv = process.argv.slice(2);
if (!(await runCloudCommand(argv))) {
  runDeployable(
    {
      name: 'echolake-cloud',
      log,
      loadConfig: (file, overrides) => loadCloudConfig(file, process.env, overrides),
      components,
      describe: (config) => ({
        roles: config.roles,
        brokers: config.kafka.brokers,
        mqtt: redactUrl(config.mqtt.url),
        embeddedBroker: config.broker.enabled,
        lakeRoot: redactUrl(config.lake.root),
      }),
    },
    argv,
  );
}
