import type { FromSchema } from 'json-schema-to-ts';

/**
 * Names of shares, schemas and tables: the protocol forbids spaces, slashes, control characters
 * (and dots in schemas and tables); this keeps them URL-safe as well, so a name never needs escaping.
 */
const NAME = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' } as const;

export const sharingConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['prefix', 'publicUrl', 's3PublicEndpoint', 'recipientsFile', 'urlSigningKey', 'urlExpirySeconds', 'tokenExpiryDays', 'maxPageSize', 'maxVersionsPerQuery', 'shares'],
  properties: {
    prefix: {
      type: 'string',
      pattern: '^(/[A-Za-z0-9_-]+)+$',
      default: '/delta-sharing',
      description: 'where the Delta Sharing protocol is served on the cloud API (the profile endpoint is publicUrl + prefix)',
    },
    publicUrl: {
      type: 'string',
      pattern: '^(https?://[^/?#\\s]+)?$',
      default: '',
      description: 'the URL analysts reach the cloud API at (https://lake.example.com), for profile files and file URLs; empty: the address each request came to',
    },
    s3PublicEndpoint: {
      type: 'string',
      pattern: '^(https?://[^/?#\\s]+)?$',
      default: '',
      description: "the S3 endpoint analysts reach, when it is not lake.s3.endpoint (a MinIO behind a proxy, a container network's name): pre-signed URLs are signed for it; empty: lake.s3.endpoint",
    },
    recipientsFile: {
      type: 'string',
      minLength: 1,
      default: './sharing-recipients.yaml',
      description: 'recipients with their hashed bearer tokens, expiries and shares (YAML); `echolake-cloud share-profile` writes it, the cloud rereads it when it changes',
    },
    urlSigningKey: {
      type: 'string',
      default: '',
      description: 'HMAC key of the file URLs of local-folder tables (keep it in ECHOLAKE_CLOUD_SHARING__URL_SIGNING_KEY; the same on every replica); empty: a random key per start',
    },
    urlExpirySeconds: {
      type: 'integer',
      minimum: 60,
      maximum: 604800,
      default: 3600,
      description: 'how long a file URL in a query answer works (pre-signed S3 URLs and signed local ones alike)',
    },
    tokenExpiryDays: { type: 'integer', minimum: 1, maximum: 3650, default: 90, description: 'how long a token from `share-profile` works unless --days says otherwise' },
    maxPageSize: { type: 'integer', minimum: 1, maximum: 1000, default: 500, description: 'most items one page of a listing holds, whatever maxResults asks' },
    maxVersionsPerQuery: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      default: 1000,
      description: 'most table versions one startingVersion query (streaming) may span; the client pages with endingVersion',
    },
    shares: {
      type: 'array',
      maxItems: 100,
      default: [{ name: 'echolake', schemas: [{ name: 'lake', tables: [{ name: 'readings', table: 'readings' }, { name: 'alerts', table: 'alerts' }] }] }],
      description: 'shares → schemas → tables, each table a Delta table under lake.root (`readings`, `alerts`, `dead_letters`); recipients are granted whole shares',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'schemas'],
        properties: {
          name: NAME,
          schemas: {
            type: 'array',
            maxItems: 100,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'tables'],
              properties: {
                name: NAME,
                tables: {
                  type: 'array',
                  maxItems: 100,
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['name', 'table'],
                    properties: { name: NAME, table: NAME },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

export type SharingConfig = FromSchema<typeof sharingConfigSchema>;
export type ShareConfig = SharingConfig['shares'][number];
