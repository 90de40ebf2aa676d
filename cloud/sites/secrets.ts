import { createHash, pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

/** scrypt's cost: about 50 ms and 16 MiB per check, which is why verified secrets are cached (see SiteAuthenticator). */
const SCRYPT = { N: 16_384, r: 8, p: 1, keyLength: 32 };
/** Mosquitto 2's own format (`$7$`): PBKDF2-SHA512, 101 iterations, 12-byte salt, as mosquitto_passwd writes it. */
const MOSQUITTO = { iterations: 101, saltBytes: 12, keyLength: 64 };

/** A fresh site secret: 32 random bytes, base64url, so it is safe in YAML, URLs and an Authorization header. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** `scrypt$N$r$p$salt$hash` (base64): what the registry keeps instead of the secret. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Whether `secret` is the one `stored` was made from; false for a stored value of any other form. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (![cost.N, cost.r, cost.p].every(Number.isSafeInteger) || expected.length === 0) return false;
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64'), expected.length, { ...cost, maxmem: 256 * 1024 * 1024 });
  return timingSafeEqual(actual, expected);
}

/** The same secret in Mosquitto's password-file hash, so `mosquitto-config` can write it without knowing the secret. */
export async function mosquittoHash(secret: string): Promise<string> {
  const salt = randomBytes(MOSQUITTO.saltBytes);
  const hash = await pbkdf2Async(secret, salt, MOSQUITTO.iterations, MOSQUITTO.keyLength, 'sha512');
  return `$7$${MOSQUITTO.iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** A key for remembering a secret already checked, without keeping the secret itself in memory. */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
