/**
 * MQTT client ids of the sites. A broker lets whoever connects with a client id take over that
 * id's session (its subscriptions, its queued acks and commands), so a site's ids must be its
 * own: the embedded broker allows a site only `echolake-edge-{siteId}` and that with a
 * `.suffix`; `.` never occurs in a site id, so site `a` can never name an id of site `a-b`.
 * Mosquitto cannot tie a client id to a user, so the edge's id carries a tag derived from its
 * secret: no other site can guess it.
 */
import { createHmac } from 'node:crypto';

const SITE_CLIENT_PREFIX = 'echolake-edge-';

/** The id the edge connects with: stable across restarts (its persistent session), new when its secret is rotated. */
export function siteClientId(siteId: string, secret: string | undefined): string {
  const base = `${SITE_CLIENT_PREFIX}${siteId}`;
  if (secret === undefined || secret === '') return base;
  const tag = createHmac('sha256', secret).update(`echolake-edge-client-id\u0000${siteId}`).digest('hex').slice(0, 16);
  return `${base}.${tag}`;
}

/** Whether `clientId` is one of the ids site `siteId` may use. */
export function isSiteClientId(siteId: string, clientId: string): boolean {
  const base = `${SITE_CLIENT_PREFIX}${siteId}`;
  return clientId === base || (clientId.startsWith(`${base}.`) && clientId.length > base.length + 1);
}
