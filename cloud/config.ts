import { accessSync, constants } from 'node:fs';
import type { FromSchema } from 'json-schema-to-ts';
import { loadConfig } from '../shared/config.js';
import { alertsConfigSchema } from './alerts/config.js';
import { brokerConfigSchema } from './broker/config.js';
import { commandsConfigSchema } from './commands/config.js';
import { apiConfigSchema } from './http/config.js';
import { ingestConfigSchema, mqttConfigSchema } from './ingest/config.js';
import { kafkaConfigSchema } from './kafka/config.js';
import { lakeConfigSchema } from './lake/config.js';
import { catalogProblems } from './sharing/catalog.js';
import { sharingConfigSchema } from './sharing/config.js';
import { sitesConfigSchema } from './sites/config.js';

/**
 * The cloud's settings: one fragment per room, each declared (and its type derived) in the room
 * that reads it; `roles` switches the roles of this process on.
 */
export const cloudConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['roles', 'sites', 'mqtt', 'broker', 'ingest', 'kafka', 'api', 'lake', 'alerts', 'sharing', 'commands'],
  properties: {
    roles: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['ingest', 'lake', 'alerts', 'sharing', 'commands'],
      properties: {
        ingest: { type: 'boolean', default: true, description: 'take batches from MQTT (and the HTTPS route) into Kafka' },
        lake: { type: 'boolean', default: true, description: 'commit Kafka readings into Delta' },
        alerts: { type: 'boolean', default: false, description: 'raise alerts from the readings by the rules file (alerts.*)' },
        sharing: { type: 'boolean', default: false, description: 'serve the lake\'s tables to analysts over the Delta Sharing protocol (sharing.*)' },
        commands: { type: 'boolean', default: false, description: 'the commands API: commands to the sites\' air conditioners over MQTT, audited in Kafka (commands.*)' },
      },
    },
    sites: sitesConfigSchema,
    mqtt: mqttConfigSchema,
    broker: brokerConfigSchema,
    ingest: ingestConfigSchema,
    kafka: kafkaConfigSchema,
    api: apiConfigSchema,
    lake: lakeConfigSchema,
    alerts: alertsConfigSchema,
    sharing: sharingConfigSchema,
    commands: commandsConfigSchema,
  },
} as const;

export type CloudConfig = FromSchema<typeof cloudConfigSchema>;

export function loadCloudConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env, overrides: string[] = []): CloudConfig {
  return loadConfig<CloudConfig>({ schema: cloudConfigSchema, file, env, envPrefix: 'ECHOLAKE_CLOUD_', overrides, crossCheck: crossCheckCloud });
}

/** What the schema cannot say: settings that must come in pairs or exclude each other, files the process must read. */
export function crossCheckCloud(config: CloudConfig): string[] {
  const problems: string[] = [];
  if (config.mqtt.password !== undefined && config.mqtt.passwordFile !== undefined) {
    problems.push('mqtt.password and mqtt.passwordFile exclude each other: keep passwordFile');
  }
  pairOf(problems, 'broker.tls', config.broker.tls);
  pairOf(problems, 'api.tls', config.api.tls);
  if ((config.mqtt.tls.certFile === undefined) !== (config.mqtt.tls.keyFile === undefined)) {
    problems.push('mqtt.tls.certFile and mqtt.tls.keyFile go together: set both or neither');
  }
  if (Object.keys(config.mqtt.tls).length > 0 && !config.mqtt.url.startsWith('mqtts://')) {
    problems.push(`mqtt.tls is set but mqtt.url ${config.mqtt.url.split('://')[0]}:// is not TLS: use mqtts://`);
  }
  readable(problems, 'mqtt.passwordFile', config.mqtt.passwordFile);
  for (const [field, file] of Object.entries({ ...prefixed('mqtt.tls', config.mqtt.tls), ...prefixed('broker.tls', config.broker.tls), ...prefixed('api.tls', config.api.tls) })) {
    readable(problems, field, file);
  }
  const names = config.api.operators.map((operator) => operator.name);
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (repeated.length > 0) problems.push(`api.operators names ${repeated.join(', ')} more than once: operator names must be unique`);
  problems.push(...catalogProblems(config.sharing.shares));
  if (config.roles.sharing && !config.api.enabled) problems.push('roles.sharing serves on the cloud API: set api.enabled to true');
  problems.push(...embeddedBrokerProblems(config));
  return problems;
}

/** Settings that work but send secrets in clear: said once at start, as the edge does for its own. */
export function plainTextWarnings(config: CloudConfig): string[] {
  const warnings: string[] = [];
  const mqttHost = hostOf(config.mqtt.url);
  if ((config.roles.ingest || config.roles.commands) && config.mqtt.url.startsWith('mqtt://') && !isLoopbackHost(mqttHost)) {
    warnings.push(`the cloud's MQTT password goes over plain mqtt:// to ${mqttHost}: use mqtts:// (mqtt.url, mqtt.tls.caFile) unless that network is trusted`);
  }
  if (config.broker.enabled && config.broker.tls.certFile === undefined && !isLoopbackHost(config.broker.host)) {
    warnings.push(`the embedded broker listens on ${config.broker.host} without TLS: every site's secret travels in clear; set broker.tls.certFile and broker.tls.keyFile`);
  }
  return warnings;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return url;
  }
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * The embedded broker (aedes) speaks MQTT 3.1.1 and has no shared subscriptions: with the MQTT 5
 * defaults the ingest could not connect, or would subscribe to a `$share/…` filter that never
 * delivers and sit "ready" while no batch arrives.
 */
function embeddedBrokerProblems(config: CloudConfig): string[] {
  if (!config.broker.enabled || !(config.roles.ingest || config.roles.commands)) return [];
  const problems: string[] = [];
  if (config.mqtt.protocolVersion !== 4) {
    problems.push('broker.enabled: the embedded broker speaks MQTT 3.1.1 only: set mqtt.protocolVersion to 4 (ECHOLAKE_CLOUD_MQTT__PROTOCOL_VERSION=4)');
  }
  if (config.mqtt.sharedGroup !== '') {
    problems.push(
      "broker.enabled: the embedded broker has no shared subscriptions: set mqtt.sharedGroup to '' (ECHOLAKE_CLOUD_MQTT__SHARED_GROUP=), one ingest per embedded broker; for replicas use Mosquitto",
    );
  }
  return problems;
}

function pairOf(problems: string[], field: string, tls: { certFile?: string; keyFile?: string }): void {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) problems.push(`${field}.certFile and ${field}.keyFile go together: set both or neither`);
}

function prefixed(prefix: string, files: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(files).map(([key, value]) => [`${prefix}.${key}`, value]));
}

function readable(problems: string[], field: string, file: string | undefined): void {
  if (file === undefined) return;
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    problems.push(`${field} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): check the path and that this user may read it`);
  }
}
