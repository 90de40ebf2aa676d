import type { SchemaObject } from 'ajv';
import { loadConfig } from '../shared/config.js';

export interface CloudConfig {
  roles: { ingest: boolean; lake: boolean };
  mqtt: {
    url: string;
    protocolVersion: 4 | 5;
    clientId: string;
    sharedGroup: string;
    username?: string;
    password?: string;
    embedded: { enabled: boolean; host: string; port: number };
  };
  kafka: {
    brokers: string[];
    clientId: string;
    partitions: number;
    replicationFactor: number;
    topics: { readings: string; deadLetter: string };
  };
  lake: {
    root: string;
    groupId: string;
    appId: string;
    maxRecords: number;
    maxBytes: number;
    maxAgeMs: number;
    checkpointInterval: number;
    maxSeqJump: number;
    s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean };
  };
}

export const cloudConfigSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['roles', 'mqtt', 'kafka', 'lake'],
  properties: {
    roles: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['ingest', 'lake'],
      properties: {
        ingest: { type: 'boolean', default: true, description: 'take batches from MQTT into Kafka' },
        lake: { type: 'boolean', default: true, description: 'commit Kafka readings into Delta' },
      },
    },
    mqtt: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['url', 'protocolVersion', 'clientId', 'sharedGroup', 'embedded'],
      properties: {
        url: { type: 'string', default: 'mqtt://127.0.0.1:1883', description: 'mqtt://host:port or mqtts://host:port' },
        protocolVersion: { type: 'integer', enum: [4, 5], default: 5, description: '5 for MQTT 5, 4 for 3.1.1 (the embedded broker)' },
        clientId: { type: 'string', default: '', description: 'unique per ingest instance; empty: echolake-cloud-ingest-<host name>' },
        sharedGroup: { type: 'string', default: 'echolake-ingest', description: 'shared-subscription group; empty for a plain subscription' },
        username: { type: 'string' },
        password: { type: 'string' },
        embedded: {
          type: 'object',
          additionalProperties: false,
          default: {},
          required: ['enabled', 'host', 'port'],
          properties: {
            enabled: { type: 'boolean', default: false, description: 'run an MQTT broker inside this process' },
            host: { type: 'string', default: '127.0.0.1' },
            port: { type: 'integer', minimum: 1, maximum: 65535, default: 1883 },
          },
        },
      },
    },
    kafka: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['brokers', 'clientId', 'partitions', 'replicationFactor', 'topics'],
      properties: {
        brokers: { type: 'array', items: { type: 'string', pattern: '^[^:]+:\\d+$' }, minItems: 1, default: ['127.0.0.1:9092'], description: 'host:port, comma-separated in the environment' },
        clientId: { type: 'string', default: 'echolake-cloud' },
        partitions: { type: 'integer', minimum: 1, default: 3, description: 'for topics the cloud creates' },
        replicationFactor: { type: 'integer', minimum: 1, default: 1 },
        topics: {
          type: 'object',
          additionalProperties: false,
          default: {},
          required: ['readings', 'deadLetter'],
          properties: {
            readings: { type: 'string', default: 'echolake.readings' },
            deadLetter: { type: 'string', default: 'echolake.readings.dlq' },
          },
        },
      },
    },
    lake: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['root', 'groupId', 'appId', 'maxRecords', 'maxBytes', 'maxAgeMs', 'checkpointInterval', 'maxSeqJump', 's3'],
      properties: {
        root: { type: 'string', minLength: 1, default: './var/lake', description: 'where the Delta tables live: a local folder, or s3://bucket/prefix' },
        groupId: { type: 'string', default: 'echolake-lake' },
        appId: { type: 'string', default: 'echolake-lake', description: 'names the txn actions; keep it stable' },
        maxRecords: { type: 'integer', minimum: 1, maximum: 2000000, default: 250000, description: 'readings per commit at most' },
        maxBytes: { type: 'integer', minimum: 1024, maximum: 1073741824, default: 134217728, description: 'bytes of Kafka messages per commit at most (about 10x the Parquet size)' },
        maxAgeMs: { type: 'integer', minimum: 10, default: 60000, description: 'longest wait before a commit' },
        checkpointInterval: { type: 'integer', minimum: 1, default: 10, description: 'a Delta checkpoint every this many table versions' },
        maxSeqJump: { type: 'integer', minimum: 1, default: 100000000, description: "a seq more than this above its site's last is refused to the dead-letter table" },
        s3: {
          type: 'object',
          additionalProperties: false,
          default: {},
          required: ['endpoint', 'region', 'accessKeyId', 'secretAccessKey', 'forcePathStyle'],
          properties: {
            endpoint: { type: 'string', default: '', description: 'S3-compatible endpoint URL (MinIO, …); empty for AWS' },
            region: { type: 'string', default: 'us-east-1' },
            accessKeyId: { type: 'string', default: '', description: "empty: the AWS SDK's default credential chain" },
            secretAccessKey: { type: 'string', default: '' },
            forcePathStyle: { type: 'boolean', default: false, description: 'path-style URLs (MinIO and most S3-compatible servers need it)' },
          },
        },
      },
    },
  },
};

export function loadCloudConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env, overrides: string[] = []): CloudConfig {
  return loadConfig<CloudConfig>({ schema: cloudConfigSchema, file, env, envPrefix: 'ECHOLAKE_CLOUD_', overrides });
}
