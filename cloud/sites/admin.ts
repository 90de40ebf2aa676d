/** Changes to the registry file made by `echolake-cloud site …`; the running cloud reloads the file. */
import { ConfigError } from '../../shared/config.js';
import { readRegistryFile, writeRegistryFile } from './file-registry.js';
import type { RegistryFile, Site, SiteSecret } from './registry.js';
import { hashSecret, mosquittoHash, newSecret } from './secrets.js';

/** A secret just made: shown once to the person running the command, then only its hashes remain. */
export interface SiteCredentials {
  siteId: string;
  secretId: string;
  secret: string;
}

export interface NewSite {
  id: string;
  name: string;
  location: { latitude: number; longitude: number } | undefined;
  timeZone: string;
}

export async function addSite(file: string, site: NewSite): Promise<SiteCredentials> {
  const registry = readRegistryFile(file);
  if (registry.sites.some((existing) => existing.id === site.id)) throw new ConfigError([`site ${site.id} exists already: use site rotate to give it a new secret`]);
  checkTimeZone(site.timeZone);
  const { stored, credentials } = await freshSecret(site.id);
  const entry: Site = {
    id: site.id,
    name: site.name,
    enabled: true,
    ...(site.location !== undefined && { location: site.location }),
    timeZone: site.timeZone,
    thresholds: {},
    secrets: [stored],
  };
  save(file, { sites: [...registry.sites, entry] });
  return credentials;
}

/** A new secret beside the old ones (both work until the edge moved over), or instead of them with `dropOld`. */
export async function rotateSecret(file: string, siteId: string, dropOld: boolean): Promise<SiteCredentials> {
  const registry = readRegistryFile(file);
  const site = find(registry, siteId);
  const { stored, credentials } = await freshSecret(siteId);
  // The registry keeps at most 10; the oldest goes first.
  site.secrets = dropOld ? [stored] : [...site.secrets, stored].slice(-10);
  save(file, registry);
  return credentials;
}

export function disableSite(file: string, siteId: string): void {
  const registry = readRegistryFile(file);
  find(registry, siteId).enabled = false;
  save(file, registry);
}

export function enableSite(file: string, siteId: string): void {
  const registry = readRegistryFile(file);
  find(registry, siteId).enabled = true;
  save(file, registry);
}

async function freshSecret(siteId: string): Promise<{ stored: SiteSecret; credentials: SiteCredentials }> {
  const secret = newSecret();
  const createdAt = new Date().toISOString();
  const id = createdAt.replace(/[-:.TZ]/g, '').slice(0, 14);
  return {
    stored: { id, scrypt: await hashSecret(secret), mosquitto: await mosquittoHash(secret), createdAt },
    credentials: { siteId, secretId: id, secret },
  };
}

function find(registry: RegistryFile, siteId: string): Site {
  const site = registry.sites.find((candidate) => candidate.id === siteId);
  if (site === undefined) throw new ConfigError([`no site ${siteId} in the registry: add it with site add`]);
  return site;
}

function checkTimeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw new ConfigError([`--time-zone ${zone} is no IANA time zone: use e.g. Asia/Tokyo`]);
  }
}

function save(file: string, registry: RegistryFile): void {
  // Validate what we are about to write exactly as the cloud will read it.
  writeRegistryFile(file, registry);
  readRegistryFile(file);
}
