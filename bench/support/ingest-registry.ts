// The site registry of `npm run bench ingest`: N sites with known secrets, written as the cloud reads
// it (sites.file) and as `echolake-cloud mosquitto-config` turns it into Mosquitto's files.
//
// The scrypt hashes use a lower cost than the registry's own (N=1,024 instead of 16,384; the stored
// hash names its cost, so the authorizer checks it as it is): hashing 1,000 secrets at full cost
// takes ~50 s of CPU, in the bench and again in the broker at every run's first connects. Steady
// state is what the runs measure (a verified secret is remembered); the full-cost connect of a
// fleet is measured on its own (see ingest.bench.ts, `connectCost`).
import { randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { writeRegistryFile } from '../../cloud/sites/file-registry.js';
import { writeMosquittoFiles } from '../../cloud/sites/mosquitto.js';
import type { RegistryFile, Site } from '../../cloud/sites/registry.js';
import { hashSecret, mosquittoHash } from '../../cloud/sites/secrets.js';
import { CLOUD_USER, CLOUD_PASSWORD, testSecret } from '../../test/support/cloud-sites.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;

/** The bench's cheaper scrypt cost, in the registry's `scrypt$N$r$p$salt$hash` form. */
async function cheapHash(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, 32, { N: 1024, r: 8, p: 1 });
  return ['scrypt', 1024, 8, 1, salt.toString('base64'), hash.toString('base64')].join('$');
}

export const benchSiteId = (index: number): string => `bench-site-${String(index).padStart(4, '0')}`;

export async function benchSites(count: number, fullCost = false): Promise<Site[]> {
  const sites: Site[] = [];
  for (let index = 0; index < count; index += 1) {
    const id = benchSiteId(index);
    const secret = testSecret(id);
    sites.push({
      id,
      name: `Bench site ${index}`,
      enabled: true,
      timeZone: 'UTC',
      thresholds: {},
      secrets: [{ id: 's1', scrypt: fullCost ? await hashSecret(secret) : await cheapHash(secret), mosquitto: await mosquittoHash(secret), createdAt: new Date().toISOString() }],
    });
  }
  return sites;
}

/** sites.yaml in `dir`, for the cloud and the embedded broker's child. */
export function writeBenchRegistry(dir: string, sites: Site[]): string {
  const file = join(dir, 'sites.yaml');
  writeRegistryFile(file, { sites } satisfies RegistryFile);
  return file;
}

/** Mosquitto's password_file and acl_file as `echolake-cloud mosquitto-config` writes them, the cloud's own user included. */
export async function writeBenchMosquittoFiles(dir: string, sites: Site[]): Promise<{ passwordFile: string; aclFile: string }> {
  const cloud = { username: CLOUD_USER, hash: await mosquittoHash(CLOUD_PASSWORD) };
  const [passwordFile, aclFile] = writeMosquittoFiles({ sites }, join(dir, 'mosquitto'), cloud);
  return { passwordFile, aclFile };
}
