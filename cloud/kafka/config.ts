import type { FromSchema } from 'json-schema-to-ts';

export const kafkaConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['brokers', 'clientId', 'partitions', 'replicationFactor', 'topics', 'producer'],
  properties: {
    brokers: {
      type: 'array',
      items: { type: 'string', pattern: '^[^:]+:\\d+$' },
      minItems: 1,
      default: ['127.0.0.1:9092'],
      description: 'host:port, comma-separated in the environment',
    },
    clientId: { type: 'string', default: 'echolake-cloud', description: 'names this process in the brokers\' logs' },
    partitions: { type: 'integer', minimum: 1, default: 3, description: 'for topics the cloud creates' },
    replicationFactor: { type: 'integer', minimum: 1, default: 1, description: 'for topics the cloud creates' },
    producer: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['client', 'compression'],
      properties: {
        client: {
          type: 'string',
          enum: ['platformatic', 'kafkajs'],
          default: 'platformatic',
          description: 'the Kafka client the ingest produces with: platformatic (@platformatic/kafka, faster, see the README\'s ingest benchmark) or kafkajs',
        },
        compression: {
          type: 'string',
          enum: ['none', 'gzip', 'snappy', 'lz4'],
          default: 'none',
          description: 'compression of the readings\' record batches; kafkajs supports none and gzip only',
        },
      },
    },
    topics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['readings', 'deadLetter'],
      properties: {
        readings: { type: 'string', minLength: 1, default: 'echolake.readings', description: 'the readings, keyed by deviceId' },
        deadLetter: { type: 'string', minLength: 1, default: 'echolake.readings.dlq', description: 'what could not be read, with the reason' },
      },
    },
  },
} as const;

export type KafkaConfig = FromSchema<typeof kafkaConfigSchema>;
