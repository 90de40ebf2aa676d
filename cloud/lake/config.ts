import type { FromSchema } from 'json-schema-to-ts';

export const lakeConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['root', 'groupId', 'appId', 'maxRecords', 'maxAgeMs'],
  properties: {
    root: { type: 'string', minLength: 1, default: './var/lake', description: 'folder holding the Delta tables' },
    groupId: { type: 'string', minLength: 1, default: 'echolake-lake', description: 'Kafka consumer group of the lake writers' },
    appId: { type: 'string', minLength: 1, default: 'echolake-lake', description: 'names the txn actions; keep it stable' },
    maxRecords: { type: 'integer', minimum: 1, default: 5000, description: 'readings per commit at most' },
    maxAgeMs: { type: 'integer', minimum: 10, default: 10000, description: 'longest wait before a commit' },
  },
} as const;

export type LakeConfig = FromSchema<typeof lakeConfigSchema>;
