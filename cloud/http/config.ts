import type { FromSchema } from 'json-schema-to-ts';
import { serverTlsSchema } from '../tls-config.js';

export const apiConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['enabled', 'host', 'port', 'operators', 'tls', 'behindTlsProxy', 'maxConcurrentRequests'],
  properties: {
    enabled: { type: 'boolean', default: true, description: 'serve the cloud API (health, metrics, sites, the HTTPS ingest)' },
    host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'address to listen on; 0.0.0.0 in a container' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8443, description: '0 picks a free port (tests)' },
    operators: {
      type: 'array',
      default: [],
      maxItems: 100,
      description: 'operator tokens: `{name, tokenSha256}`; `echolake-cloud operator-token NAME` makes one',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'tokenSha256'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 64 },
          tokenSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        },
      },
    },
    tls: serverTlsSchema('API speaks HTTPS'),
    behindTlsProxy: {
      type: 'boolean',
      default: false,
      description: 'browsers reach the API through a proxy that ends TLS: the dashboard\'s session cookie is then Secure too',
    },
    maxConcurrentRequests: { type: 'integer', minimum: 1, default: 256, description: 'more at once are answered 503 with Retry-After' },
  },
} as const;

export type ApiConfig = FromSchema<typeof apiConfigSchema>;

/** Whether browsers reach the API over HTTPS, so its cookies may be Secure. */
export function servedOverHttps(config: ApiConfig): boolean {
  return config.tls.certFile !== undefined || config.behindTlsProxy;
}
