/**
 * Expiring file URLs for tables in a local folder, which have no pre-signed URLs of their own: the
 * server signs (HMAC-SHA256) the file's path, size and expiry, and its file route serves only what
 * it signed, only until then. Nothing else is needed to fetch the file, as with S3's URLs.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SignedFile {
  /** `share/schema/table/key`, as the file route's path holds it. */
  path: string;
  size: number;
  expiresAt: number;
}

export type Verdict = 'valid' | 'expired' | 'invalid';

export class UrlSigner {
  private readonly key: Buffer;

  /** An empty key makes a random one: URLs then die with the process, and replicas cannot serve each other's. */
  constructor(key: string) {
    this.key = key === '' ? randomBytes(32) : Buffer.from(key, 'utf8');
  }

  sign(file: SignedFile): string {
    return createHmac('sha256', this.key).update(`${file.expiresAt}\n${file.size}\n${file.path}`).digest('base64url');
  }

  /** A signature that does not match is `invalid` whatever the expiry says: a tampered expiry is not "expired". */
  verify(file: SignedFile, signature: string, now = Date.now()): Verdict {
    const expected = Buffer.from(this.sign(file));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    return file.expiresAt > now ? 'valid' : 'expired';
  }
}
