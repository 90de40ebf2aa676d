/**
 * Mosquitto's `password_file` and `acl_file` written from the site registry, so the registry stays
 * the one source of truth when sites connect to Mosquitto instead of the embedded broker. The ACL
 * says what SiteAuthorizer says: a site publishes its own readings and status and reads its own
 * acks; the cloud reads every site's readings and status and writes acks.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SITE_PUBLISHES, SITE_SUBSCRIBES, everySiteFilter, siteTopic } from '../../shared/contract/topics.js';
import type { RegistryFile } from './registry.js';

export function mosquittoPasswordFile(registry: RegistryFile): string {
  const lines: string[] = [];
  for (const site of registry.sites) {
    if (!site.enabled) continue;
    // Mosquitto takes one hash per user: the newest secret. During a rotation, move the edge first.
    const newest = [...site.secrets].reverse().find((secret) => secret.mosquitto !== undefined);
    if (newest?.mosquitto !== undefined) lines.push(`${site.id}:${newest.mosquitto}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export function mosquittoAclFile(registry: RegistryFile, cloudUser: string): string {
  const lines = [`# written by echolake-cloud mosquitto-config from the site registry; do not edit`, `user ${cloudUser}`];
  for (const channel of SITE_PUBLISHES) lines.push(`topic read ${everySiteFilter(channel)}`);
  for (const channel of SITE_SUBSCRIBES) lines.push(`topic write ${everySiteFilter(channel)}`);
  for (const site of registry.sites) {
    if (!site.enabled) continue;
    lines.push('', `user ${site.id}`);
    for (const channel of SITE_PUBLISHES) lines.push(`topic write ${siteTopic(site.id, channel)}`);
    for (const channel of SITE_SUBSCRIBES) lines.push(`topic read ${siteTopic(site.id, channel)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes both files into `folder` (each replaced whole); returns their paths. */
export function writeMosquittoFiles(registry: RegistryFile, folder: string, cloudUser: string): [string, string] {
  mkdirSync(folder, { recursive: true });
  const passwords = join(folder, 'password_file');
  const acl = join(folder, 'acl_file');
  replace(passwords, mosquittoPasswordFile(registry));
  replace(acl, mosquittoAclFile(registry, cloudUser));
  return [passwords, acl];
}

function replace(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
