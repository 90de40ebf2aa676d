/**
 * Mosquitto's `password_file` and `acl_file` written from the site registry, so the registry stays
 * the one source of truth when sites connect to Mosquitto instead of the embedded broker. The ACL
 * says what SiteAuthorizer says: a site publishes its own readings, status and command results
 * and reads its own acks and commands; the cloud reads what sites publish and writes acks and
 * commands.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SITE_PUBLISHES, SITE_SUBSCRIBES, everySiteFilter, siteTopic } from '../../shared/contract/topics.js';
import type { RegistryFile } from './registry.js';

/** The cloud's own MQTT user, with its Mosquitto hash when the cloud's password is known. */
export interface CloudUser {
  username: string;
  hash: string | undefined;
}

export function mosquittoPasswordFile(registry: RegistryFile, cloud: CloudUser): string {
  const lines: string[] = cloud.hash === undefined ? [] : [`${cloud.username}:${cloud.hash}`];
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
export function writeMosquittoFiles(registry: RegistryFile, folder: string, cloud: CloudUser): [string, string] {
  mkdirSync(folder, { recursive: true });
  const passwords = join(folder, 'password_file');
  const acl = join(folder, 'acl_file');
  replace(passwords, mosquittoPasswordFile(registry, cloud));
  replace(acl, mosquittoAclFile(registry, cloud.username));
  return [passwords, acl];
}

function replace(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
