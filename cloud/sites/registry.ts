import type { FromSchema } from 'json-schema-to-ts';
import { SITE_ID_PATTERN } from '../../shared/reading-schema.js';

/** One stored credential of a site: hashed twice (ours and Mosquitto's), never the secret itself. */
const secretSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'scrypt', 'createdAt'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
    scrypt: { type: 'string', pattern: '^scrypt\\$', maxLength: 256 },
    mosquitto: { type: 'string', pattern: '^\\$7\\$', maxLength: 256 },
    createdAt: { type: 'string', maxLength: 40 },
  },
} as const;

export const siteSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'enabled', 'timeZone', 'thresholds', 'secrets'],
  properties: {
    id: { type: 'string', pattern: SITE_ID_PATTERN },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    enabled: { type: 'boolean', default: true },
    location: {
      type: 'object',
      additionalProperties: false,
      required: ['latitude', 'longitude'],
      properties: {
        latitude: { type: 'number', minimum: -90, maximum: 90 },
        longitude: { type: 'number', minimum: -180, maximum: 180 },
      },
    },
    timeZone: { type: 'string', minLength: 1, maxLength: 64, default: 'UTC' },
    /** Per-site overrides of alert thresholds, by the name the rules use (e.g. `humidityMin`). */
    thresholds: { type: 'object', default: {}, maxProperties: 100, additionalProperties: { type: 'number' } },
    /** Several at once, so a secret is rotated without downtime: add the new one, move the edge, drop the old. */
    secrets: { type: 'array', default: [], maxItems: 10, items: secretSchema },
  },
} as const;

export const registryFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sites'],
  properties: {
    sites: { type: 'array', default: [], maxItems: 100_000, items: siteSchema },
  },
} as const;

export type Site = FromSchema<typeof siteSchema>;
export type SiteSecret = FromSchema<typeof secretSchema>;
export type RegistryFile = FromSchema<typeof registryFileSchema>;

/** Who knows the sites. A YAML file today (FileSiteRegistry); a database later behind the same interface. */
export interface SiteRegistry {
  get(id: string): Site | undefined;
  list(): readonly Site[];
  /** Called after every change that took effect; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

/** A registry of fixed sites, for tools and tests that build their sites in code. */
export class StaticSiteRegistry implements SiteRegistry {
  private readonly byId: Map<string, Site>;

  constructor(sites: readonly Site[]) {
    this.byId = new Map(sites.map((site) => [site.id, site]));
  }

  get(id: string): Site | undefined {
    return this.byId.get(id);
  }

  list(): readonly Site[] {
    return [...this.byId.values()];
  }

  onChange(): () => void {
    return () => undefined;
  }
}
