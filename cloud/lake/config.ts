import type { FromSchema } from 'json-schema-to-ts';

export const lakeConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['root', 'groupId', 'appId', 'maxRecords', 'maxBytes', 'maxAgeMs', 'checkpointInterval', 'maxSeqJump', 'alertsTable', 'commandsTable', 's3', 'maintenance'],
  properties: {
    root: {
      type: 'string',
      minLength: 1,
      default: './var/lake',
      description: 'where the Delta tables live: a local folder, or s3://bucket/prefix (an S3-compatible store, see lake.s3)',
    },
    groupId: { type: 'string', minLength: 1, default: 'echolake-lake', description: 'Kafka consumer group of the lake writers' },
    appId: { type: 'string', minLength: 1, default: 'echolake-lake', description: 'names the txn actions; keep it stable' },
    maxRecords: { type: 'integer', minimum: 1, maximum: 2000000, default: 250000, description: 'readings per commit at most' },
    maxBytes: {
      type: 'integer',
      minimum: 1024,
      maximum: 1073741824,
      default: 134217728,
      description: 'bytes of Kafka messages per commit at most (the Parquet files come out about 10x smaller)',
    },
    maxAgeMs: { type: 'integer', minimum: 10, maximum: 3600000, default: 60000, description: 'longest a reading waits before a commit' },
    checkpointInterval: { type: 'integer', minimum: 1, maximum: 100000, default: 10, description: 'a Delta checkpoint every this many table versions' },
    commandsTable: {
      type: 'boolean',
      default: false,
      description: 'also write the commands audit (commands.topic) into the Delta table commands, exactly once; on where the commands role is used',
    },
    maxSeqJump: {
      type: 'integer',
      minimum: 1,
      default: 100000000,
      description: "a seq more than this above its site's last one is refused (to the dead-letter table) instead of becoming the high mark",
    },
    alertsTable: {
      type: 'boolean',
      default: true,
      description:
        'also write the alerts topic (alerts.topics.alerts) into the alerts table, exactly once (consumer group: lake.groupId + -alerts); until the alerts role has created that topic the lake looks for it every 5 s',
    },
    s3: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['endpoint', 'region', 'accessKeyId', 'secretAccessKey', 'forcePathStyle'],
      description: 'how to reach the store of an s3:// root',
      properties: {
        endpoint: { type: 'string', default: '', description: 'endpoint URL of an S3-compatible store (MinIO, …); empty for AWS S3' },
        region: { type: 'string', minLength: 1, default: 'us-east-1', description: 'the bucket region' },
        accessKeyId: { type: 'string', default: '', description: "access key; empty: the AWS SDK's default credential chain (environment, profile, instance role)" },
        secretAccessKey: { type: 'string', default: '', description: 'secret key of accessKeyId (keep it in the environment: ECHOLAKE_CLOUD_LAKE__S3__SECRET_ACCESS_KEY)' },
        forcePathStyle: { type: 'boolean', default: false, description: 'path-style URLs (MinIO and most S3-compatible servers need it)' },
      },
    },
    maintenance: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['everyMs', 'targetFileBytes', 'minFilesToCompact', 'vacuumRetentionHours'],
      description: 'optimize (compaction) and vacuum on a schedule, as `echolake-cloud lake optimize|vacuum` do by hand',
      properties: {
        everyMs: { type: 'integer', minimum: 0, default: 3600000, description: 'how often the lake role runs optimize then vacuum; 0: never' },
        targetFileBytes: { type: 'integer', minimum: 1048576, maximum: 268435456, default: 33554432, description: 'optimize merges the smaller files of a partition into files of about this size (it holds one such file decoded in memory)' },
        minFilesToCompact: { type: 'integer', minimum: 2, default: 4, description: 'a partition is compacted only when it has at least this many small files' },
        vacuumRetentionHours: {
          type: 'integer',
          minimum: 1,
          default: 168,
          description: 'vacuum deletes files no version needs that are older than this (keep it above the longest reader query and time travel)',
        },
      },
    },
  },
} as const;

export type LakeConfig = FromSchema<typeof lakeConfigSchema>;
