import { accessSync, constants } from 'node:fs';
import type { SchemaObject } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { loadConfig } from '../shared/config.js';
import { urlCredentials } from '../shared/redact.js';
import { SITE_ID_PATTERN } from '../shared/reading-schema.js';
import { type CommandPolicy, commandsConfigSchema } from './commands/policy.js';

const IPV4 = '^(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}$';
/** Not 0.0.0.0: it names no device, and as the interface it would let the routing table pick where multicast goes. */
const SPECIFIC_IPV4 = IPV4.replace('^', '^(?!0\\.0\\.0\\.0$)');

/** The edge's settings: the schema, with the TypeScript type derived from it below. */
export const edgeConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['siteId', 'stateDir', 'echonet', 'buffer', 'api', 'uplink', 'commands'],
  properties: {
    siteId: { type: 'string', pattern: SITE_ID_PATTERN, description: 'this site\'s id: letters, digits, - and _' },
    stateDir: { type: 'string', minLength: 1, default: './var/edge', description: 'folder for the database (systemd sets $STATE_DIRECTORY, which is then the default)' },
    echonet: {
      type: 'object',
      additionalProperties: false,
      required: ['interface', 'port', 'pollIntervalMs', 'searchIntervalMs', 'requestTimeoutMs', 'retries', 'maxEpcsPerGet', 'staticAddresses', 'sendDeviceEvents'],
      properties: {
        interface: {
          type: 'string',
          pattern: SPECIFIC_IPV4,
          description: "this gateway's own IPv4 address on the aircons' LAN (`ip -4 addr` shows it), not 0.0.0.0; multicast goes out there only",
        },
        port: { type: 'integer', minimum: 1, maximum: 65535, default: 3610 },
        pollIntervalMs: { type: 'integer', minimum: 100, default: 30_000 },
        searchIntervalMs: { type: 'integer', minimum: 1000, default: 300_000 },
        requestTimeoutMs: { type: 'integer', minimum: 50, default: 2_000 },
        retries: { type: 'integer', minimum: 0, maximum: 10, default: 2 },
        maxEpcsPerGet: { type: 'integer', minimum: 1, maximum: 32, default: 10 },
        staticAddresses: {
          type: 'array',
          items: { type: 'string', pattern: SPECIFIC_IPV4, description: "a device's own IPv4 address, not 0.0.0.0" },
          default: [],
          description: 'devices multicast does not reach, probed by unicast',
        },
        sendDeviceEvents: {
          type: 'boolean',
          default: true,
          description:
            'device events (found, moved, online, unreachable, offline, propertyMapChanged) go through the outbox as readings of kind "event", ' +
            'so the cloud can tell a silent device from a dead gateway (its ingest, lake and alerts take that kind); ' +
            'turn off only for a cloud side of your own that refuses it',
        },
      },
    },
    buffer: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['durability', 'commitIntervalMs', 'maxBytes', 'historyHours'],
      properties: {
        maxBytes: {
          type: 'integer',
          minimum: 1_048_576,
          maximum: 1_099_511_627_776,
          default: 268_435_456,
          description: 'byte cap of the database, 1 MiB to 1 TiB; near it (or near a full disk) the oldest readings are dropped and counted',
        },
        historyHours: { type: 'number', minimum: 0, maximum: 720, default: 24, description: 'how long acknowledged readings stay for the local API' },
        durability: { enum: ['NORMAL', 'FULL'], default: 'FULL', description: 'SQLite synchronous mode' },
        commitIntervalMs: { type: 'integer', minimum: 10, maximum: 60_000, default: 1_000, description: 'readings are committed together at most this often' },
      },
    },
    api: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['enabled', 'port', 'maxConcurrentRequests'],
      properties: {
        enabled: { type: 'boolean', default: true },
        host: {
          type: 'string',
          pattern: `${IPV4}|^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$|^localhost$`,
          description: 'address the local API listens on: an IPv4 or IPv6 address of this host, or localhost; default echonet.interface (the LAN side)',
        },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: '0 picks a free port (it is logged)' },
        token: { type: 'string', minLength: 16, description: 'bearer token for requests that change state (16+ characters)' },
        maxConcurrentRequests: {
          type: 'integer',
          minimum: 1,
          maximum: 1024,
          default: 16,
          description: 'requests served at once; more are answered 503 with Retry-After, so the API cannot starve polling and the uplink',
        },
      },
    },
    uplink: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'protocolVersion', 'batchMaxReadings', 'batchMaxBytes', 'batchMaxAgeMs', 'ackTimeoutMs', 'ackTimeoutMaxMs', 'maxIncomingBytes', 'reconnectMinMs', 'reconnectMaxMs'],
      properties: {
        url: {
          type: 'string',
          pattern: '^(mqtts?|https)://',
          description: 'the cloud: its broker, mqtts://host:8883 (or mqtt://host:1883), or its API, https://host[/prefix] for sites that pass only HTTPS',
        },
        protocolVersion: { type: 'integer', enum: [4, 5], default: 5, description: '5 falls back to 4 (3.1.1) by itself on a broker that refuses 5' },
        username: { type: 'string', description: "the site's user name at the broker (the site id)" },
        password: { type: 'string', description: 'the site secret inline, for tests and containers; a service uses passwordFile' },
        passwordFile: {
          type: 'string',
          minLength: 1,
          description: "file holding the site secret, read at start (with systemd: /run/credentials/echolake-edge.service/uplink.password, from LoadCredential=)",
        },
        tls: {
          type: 'object',
          additionalProperties: false,
          properties: {
            caFile: { type: 'string', description: "PEM file of the CA that signed the cloud's certificate" },
            certFile: { type: 'string', description: 'PEM file of this site\'s client certificate' },
            keyFile: { type: 'string', description: 'PEM file of the client certificate\'s key' },
          },
        },
        batchMaxReadings: { type: 'integer', minimum: 1, maximum: 10_000, default: 500 },
        batchMaxBytes: {
          type: 'integer',
          minimum: 1024,
          maximum: 4_194_304,
          default: 262_144,
          description: 'at most 4 MiB: a batch is in the edge\'s memory several times over, and the edge runs in a 64 MB heap',
        },
        batchMaxAgeMs: { type: 'integer', minimum: 0, default: 2_000, description: 'a batch that is not full waits at most this long' },
        ackTimeoutMs: { type: 'integer', minimum: 100, default: 15_000, description: 'the same batch goes again after this long without the cloud\'s ack; the wait doubles with each resend' },
        ackTimeoutMaxMs: { type: 'integer', minimum: 100, default: 120_000, description: 'the longest wait for an ack the doubling reaches' },
        maxIncomingBytes: {
          type: 'integer',
          minimum: 1024,
          maximum: 1_048_576,
          default: 65_536,
          description: 'the largest MQTT packet or HTTPS answer taken from the cloud side; a larger one is dropped unread and counted (acks are ~150 bytes)',
        },
        reconnectMinMs: { type: 'integer', minimum: 100, default: 1_000 },
        reconnectMaxMs: { type: 'integer', minimum: 1_000, default: 60_000 },
      },
    },
    commands: commandsConfigSchema,
  },
} as const;

export type EdgeConfig = FromSchema<typeof edgeConfigSchema>;

/** The schema with the state folder's default where systemd's StateDirectory put it, if it did. */
function schemaFor(env: NodeJS.ProcessEnv): SchemaObject {
  const stateDir = env.STATE_DIRECTORY;
  if (stateDir === undefined) return edgeConfigSchema;
  const { properties } = edgeConfigSchema;
  return { ...edgeConfigSchema, properties: { ...properties, stateDir: { ...properties.stateDir, default: stateDir } } };
}

export function loadEdgeConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env, overrides: string[] = []): EdgeConfig {
  return loadConfig<EdgeConfig>({
    schema: schemaFor(env),
    file,
    env,
    envPrefix: 'ECHOLAKE_EDGE_',
    overrides,
    crossCheck: (config) => [...uplinkProblems(config.uplink), ...emptyListEntries(env), ...commandsProblems(config.commands)],
  });
}

/**
 * A list from the environment with empty entries (`,,,`, a stray comma) is a typo, not "no
 * addresses": the loader would drop the empty entries and start without them, silently.
 */
function emptyListEntries(env: NodeJS.ProcessEnv): string[] {
  const name = 'ECHOLAKE_EDGE_ECHONET__STATIC_ADDRESSES';
  const value = env[name];
  if (value === undefined || value === '' || !value.split(',').some((entry) => entry.trim() === '')) return [];
  return [`echonet.staticAddresses (${name}=${JSON.stringify(value)}): empty entries; list IPv4 addresses separated by commas, or leave the variable unset`];
}

function commandsProblems(commands: CommandPolicy): string[] {
  if (commands.targetTemperatureMin <= commands.targetTemperatureMax) return [];
  return [`commands.targetTemperatureMin (${commands.targetTemperatureMin}) is above commands.targetTemperatureMax (${commands.targetTemperatureMax}); lower the one or raise the other`];
}

/** What the uplink's schema cannot say: settings that must agree, and files the service must be able to read. */
function uplinkProblems(uplink: EdgeConfig['uplink']): string[] {
  const problems: string[] = [];
  const { tls } = uplink;
  if (tls !== undefined && uplink.url.startsWith('mqtt://')) {
    problems.push('uplink.tls: set, but uplink.url is mqtt:// (no TLS); use mqtts://host:8883, or remove uplink.tls');
  }
  if ((tls?.certFile === undefined) !== (tls?.keyFile === undefined)) {
    problems.push('uplink.tls.certFile and uplink.tls.keyFile go together: set both for a client certificate, or neither');
  }
  if (uplink.password !== undefined && uplink.passwordFile !== undefined) {
    problems.push('uplink.password and uplink.passwordFile are both set: keep passwordFile (the secret stays out of the configuration), remove password');
  }
  if (uplink.url.startsWith('https://') && uplink.password === undefined && uplink.passwordFile === undefined && urlCredentials(uplink.url).password === undefined) {
    problems.push("uplink.url is https://: the cloud wants the site secret as bearer token; set uplink.passwordFile (see the README's install steps)");
  }
  const files = { passwordFile: uplink.passwordFile, 'tls.caFile': tls?.caFile, 'tls.certFile': tls?.certFile, 'tls.keyFile': tls?.keyFile };
  for (const [field, file] of Object.entries(files)) {
    const unreadable = file === undefined ? undefined : unreadableFile(file);
    if (unreadable !== undefined) {
      problems.push(
        `uplink.${field}: cannot read ${file} (${unreadable}); check the path, and that the service's user can read it ` +
          '(with the systemd unit, hand it over with LoadCredential=, see the README)',
      );
    }
  }
  if (uplink.reconnectMinMs > uplink.reconnectMaxMs) {
    problems.push(`uplink.reconnectMinMs (${uplink.reconnectMinMs}) is above uplink.reconnectMaxMs (${uplink.reconnectMaxMs}); lower the one or raise the other`);
  }
  if (uplink.ackTimeoutMs > uplink.ackTimeoutMaxMs) {
    problems.push(`uplink.ackTimeoutMs (${uplink.ackTimeoutMs}) is above uplink.ackTimeoutMaxMs (${uplink.ackTimeoutMaxMs}); lower the one or raise the other`);
  }
  return problems;
}

function unreadableFile(path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}
