import type { FromSchema } from 'json-schema-to-ts';

const tlsFilesSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: [],
  properties: {
    caFile: { type: 'string', minLength: 1, description: 'PEM CA that signed the broker\'s certificate (else the system\'s CAs)' },
    certFile: { type: 'string', minLength: 1, description: 'PEM client certificate, where the broker asks for one' },
    keyFile: { type: 'string', minLength: 1, description: 'PEM key of certFile' },
  },
} as const;

/** How the cloud's ingest reaches the MQTT broker the sites publish to. */
export const mqttConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['url', 'protocolVersion', 'clientId', 'sharedGroup', 'username', 'tls', 'maxPacketBytes'],
  properties: {
    url: { type: 'string', pattern: '^mqtts?://', default: 'mqtt://127.0.0.1:1883', description: 'mqtt://host:port or mqtts://host:port' },
    protocolVersion: { type: 'integer', enum: [4, 5], default: 5, description: '5 for MQTT 5 (shared subscriptions, packet size limit), 4 for 3.1.1' },
    clientId: {
      type: 'string',
      maxLength: 128,
      default: '',
      description: 'unique per instance; empty: derived from the host name and the cloud\'s password, so nobody can guess it',
    },
    sharedGroup: { type: 'string', pattern: '^[A-Za-z0-9_-]*$', default: 'echolake-ingest', description: 'shared-subscription group; empty for a plain subscription' },
    username: { type: 'string', minLength: 1, default: 'echolake-cloud', description: 'the cloud\'s own MQTT user (never a site id)' },
    password: { type: 'string', minLength: 1, description: 'the cloud\'s MQTT password; prefer passwordFile' },
    passwordFile: { type: 'string', minLength: 1, description: 'file holding the cloud\'s MQTT password (a container secret)' },
    tls: tlsFilesSchema,
    maxPacketBytes: {
      type: 'integer',
      minimum: 65_536,
      maximum: 268_435_455,
      default: 8 * 1024 * 1024,
      description: 'the largest MQTT packet the ingest takes (MQTT 5 Maximum Packet Size); larger ones the broker drops',
    },
  },
} as const;

export const ingestConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['maxBatchBytes', 'maxInFlightBatches', 'deadLetterMaxBytes'],
  properties: {
    maxBatchBytes: {
      type: 'integer',
      minimum: 65_536,
      maximum: 64 * 1024 * 1024,
      default: 6 * 1024 * 1024,
      description: 'a batch payload above this is refused: over MQTT it is kept whole on the dead-letter topic (in pieces of deadLetterMaxBytes) and acked when its batch id and seqs can be read, over HTTPS it is answered 413; the edge sends at most 4 MiB',
    },
    maxInFlightBatches: {
      type: 'integer',
      minimum: 1,
      maximum: 10_000,
      default: 256,
      description: 'batches handled at once; more wait unacknowledged at the broker (backpressure)',
    },
    deadLetterMaxBytes: {
      type: 'integer',
      minimum: 1024,
      maximum: 900 * 1024,
      default: 512 * 1024,
      description: 'a dead letter larger than this is stored in pieces of this size (Kafka refuses records over about 1 MB)',
    },
  },
} as const;

export type MqttConfig = FromSchema<typeof mqttConfigSchema>;
export type IngestConfig = FromSchema<typeof ingestConfigSchema>;
