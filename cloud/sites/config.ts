import type { FromSchema } from 'json-schema-to-ts';

export const sitesConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['file', 'reloadCheckMs'],
  properties: {
    file: {
      type: 'string',
      default: './sites.yaml',
      description: 'the site registry (YAML); `echolake-cloud site add` writes it, the cloud reloads it when it changes',
    },
    reloadCheckMs: { type: 'integer', minimum: 100, default: 2000, description: 'how often the file is checked for changes' },
  },
} as const;

export type SitesConfig = FromSchema<typeof sitesConfigSchema>;
