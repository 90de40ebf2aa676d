import { timingSafeEqual } from 'node:crypto';
import { isSiteClientId, siteClientId } from '../../shared/contract/client-ids.js';
import { SITE_PUBLISHES, SITE_SUBSCRIBES, everySiteFilter, parseSiteTopic, siteTopic } from '../../shared/contract/topics.js';
import type { SiteRegistry, SiteSecret } from './registry.js';
import { fingerprint, verifySecret } from './secrets.js';
import { DEFAULT_VERIFICATION_LIMITS, VerificationLimit, type VerificationLimits } from './verification-limit.js';

/** Who a client is, once authenticated: one site, or the cloud itself. */
export type Identity = { kind: 'site'; siteId: string } | { kind: 'cloud' };

/** Why something was refused: the label of the refusal counters and the word in the log line. */
export type Refusal =
  | 'unknown-user'
  | 'bad-secret'
  | 'site-disabled'
  | 'client-id'
  | 'foreign-topic'
  | 'not-allowed'
  /** Too many secret checks at once: not checked, the client tries again shortly. */
  | 'busy';

export type Decision = { ok: true } | { ok: false; reason: Refusal; detail: string };

const ALLOWED: Decision = { ok: true };
const refuse = (reason: Refusal, detail: string): Decision => ({ ok: false, reason, detail });

/** The cloud's own client ids begin so; a site may never use one (it would take over the cloud's session). */
export const CLOUD_CLIENT_PREFIX = 'echolake-cloud';

/** Verified secrets remembered this long, so a reconnect storm or the HTTPS route does not pay scrypt every time. */
const VERIFIED_TTL_MS = 10 * 60_000;
const MAX_VERIFIED = 100_000;

/**
 * Who may connect, publish and subscribe, from the site registry. The embedded broker asks it on
 * every connect, publish and subscribe; the HTTPS ingest on every request; the Mosquitto files
 * are written from the same rules (see mosquitto.ts).
 */
export class SiteAuthorizer {
  /** fingerprint of a checked secret → site id and when the check expires. */
  private verified = new Map<string, { siteId: string; until: number }>();
  /** What wrong secrets may cost: checks bounded at once and per source, repeated failures not checked again. */
  private readonly limit: VerificationLimit;

  constructor(
    private readonly sites: SiteRegistry,
    /** The cloud's own MQTT user and password (the embedded broker's only non-site client). */
    private readonly cloud: { username: string; password: string | undefined },
    limits: VerificationLimits = DEFAULT_VERIFICATION_LIMITS,
  ) {
    this.limit = new VerificationLimit(limits);
    // A rotated or disabled secret must stop working at once, not when its cache entry ages out;
    // and a secret refused a moment ago may be the site's new one.
    sites.onChange(() => {
      this.verified = new Map();
      this.limit.forget();
    });
  }

  /** `source`: the client's address, so one source cannot take every secret check (see VerificationLimit). */
  async authenticate(username: string, secret: string, source?: string): Promise<{ ok: true; identity: Identity } | { ok: false; reason: Refusal; detail: string }> {
    if (username === this.cloud.username) {
      if (this.cloud.password !== undefined && sameText(secret, this.cloud.password)) return { ok: true, identity: { kind: 'cloud' } };
      return { ok: false, reason: 'bad-secret', detail: 'wrong password for the cloud user' };
    }
    const site = this.sites.get(username);
    if (site === undefined) return { ok: false, reason: 'unknown-user', detail: `no site ${JSON.stringify(username.slice(0, 80))} in the registry` };
    if (!site.enabled) return { ok: false, reason: 'site-disabled', detail: `site ${site.id} is disabled` };
    const key = `${site.id}\0${fingerprint(secret)}`;
    const known = this.verified.get(key);
    if (known !== undefined && known.until > Date.now()) return { ok: true, identity: { kind: 'site', siteId: site.id } };
    const verdict = await this.limit.check(key, source, () => matchesAny(secret, site.secrets));
    if (verdict === 'busy') return { ok: false, reason: 'busy', detail: 'too many secret checks at once; try again in a few seconds' };
    if (verdict === 'wrong') return { ok: false, reason: 'bad-secret', detail: `wrong secret for site ${site.id}` };
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(key, { siteId: site.id, until: Date.now() + VERIFIED_TTL_MS });
    return { ok: true, identity: { kind: 'site', siteId: site.id } };
  }

  /** Whether a still-connected identity is still allowed (its site may have been disabled since it connected). */
  stillAllowed(identity: Identity): Decision {
    if (identity.kind === 'cloud') return ALLOWED;
    const site = this.sites.get(identity.siteId);
    if (site === undefined) return refuse('unknown-user', `site ${identity.siteId} left the registry`);
    if (!site.enabled) return refuse('site-disabled', `site ${identity.siteId} is disabled`);
    return ALLOWED;
  }

  clientId(identity: Identity, clientId: string): Decision {
    if (identity.kind === 'cloud') {
      return clientId.startsWith(CLOUD_CLIENT_PREFIX) ? ALLOWED : refuse('client-id', `the cloud's client ids begin with ${CLOUD_CLIENT_PREFIX}`);
    }
    if (isSiteClientId(identity.siteId, clientId)) return ALLOWED;
    const own = siteClientId(identity.siteId, undefined);
    return refuse('client-id', `site ${identity.siteId} must connect as ${own} or ${own}.suffix`);
  }

  publish(identity: Identity, topic: string): Decision {
    const stillAllowed = this.stillAllowed(identity);
    if (!stillAllowed.ok) return stillAllowed;
    const parsed = parseSiteTopic(topic);
    if (parsed === undefined) return refuse('not-allowed', `${topic.slice(0, 200)} is outside echolake/v1/sites/{id}/…`);
    if (identity.kind === 'cloud') {
      return SITE_PUBLISHES.includes(parsed.channel) ? refuse('not-allowed', `only sites publish ${parsed.channel}`) : ALLOWED;
    }
    if (parsed.siteId !== identity.siteId) return refuse('foreign-topic', `site ${identity.siteId} may not publish for site ${parsed.siteId}`);
    if (!SITE_PUBLISHES.includes(parsed.channel)) return refuse('not-allowed', `only the cloud publishes ${parsed.channel}`);
    return ALLOWED;
  }

  subscribe(identity: Identity, filter: string): Decision {
    const stillAllowed = this.stillAllowed(identity);
    if (!stillAllowed.ok) return stillAllowed;
    if (identity.kind === 'cloud') {
      const plain = filter.replace(/^\$share\/[^/]+\//, '');
      return SITE_PUBLISHES.some((channel) => plain === everySiteFilter(channel) || parseSiteTopic(plain)?.channel === channel)
        ? ALLOWED
        : refuse('not-allowed', `the cloud subscribes only to what sites publish, not ${filter.slice(0, 200)}`);
    }
    // A site subscribes to exact topics of its own: no wildcard can reach another site's acks.
    if (SITE_SUBSCRIBES.some((channel) => filter === siteTopic(identity.siteId, channel))) return ALLOWED;
    return refuse('foreign-topic', `site ${identity.siteId} may subscribe only to ${SITE_SUBSCRIBES.map((c) => siteTopic(identity.siteId, c)).join(', ')}`);
  }
}

async function matchesAny(secret: string, stored: readonly SiteSecret[]): Promise<boolean> {
  for (const one of stored) if (await verifySecret(secret, one.scrypt)) return true;
  return false;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
