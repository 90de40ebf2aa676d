/**
 * The MQTT topics of the edge ↔ cloud contract, built and parsed here only. Every site speaks under
 * `echolake/v1/sites/{siteId}/…`; the broker's ACLs and the ingest's checks are written from these.
 */

const PREFIX = 'echolake/v1/sites';

/**
 * What a site's topic carries. `readings`, `status` and `command-results` go up; `acks` and
 * `commands` come down.
 */
export const SITE_CHANNELS = ['readings', 'status', 'acks', 'commands', 'command-results'] as const;
export type SiteChannel = (typeof SITE_CHANNELS)[number];

/** Channels a site publishes on; the rest only the cloud publishes. */
export const SITE_PUBLISHES: readonly SiteChannel[] = ['readings', 'status', 'command-results'];
/** Channels a site subscribes to (its own only); only the cloud publishes them. */
export const SITE_SUBSCRIBES: readonly SiteChannel[] = ['acks', 'commands'];

export function siteTopic(siteId: string, channel: SiteChannel): string {
  return `${PREFIX}/${siteId}/${channel}`;
}

/** The filter the cloud subscribes to for one channel of every site, e.g. `echolake/v1/sites/+/readings`. */
export function everySiteFilter(channel: SiteChannel): string {
  return `${PREFIX}/+/${channel}`;
}

/** `$share/{group}/{filter}` for MQTT 5 shared subscriptions (Mosquitto honours it for 3.1.1 too); no group: the plain filter. */
export function sharedFilter(group: string, filter: string): string {
  return group === '' ? filter : `$share/${group}/${filter}`;
}

const SITE_TOPIC = /^echolake\/v1\/sites\/([^/+#]+)\/([^/+#]+)$/;

/** The site and channel of a topic, or undefined for a topic outside the contract (wildcards included). */
export function parseSiteTopic(topic: string): { siteId: string; channel: SiteChannel } | undefined {
  const match = SITE_TOPIC.exec(topic);
  if (match === null) return undefined;
  const [, siteId, channel] = match;
  if (siteId === undefined || !(SITE_CHANNELS as readonly string[]).includes(channel ?? '')) return undefined;
  return { siteId, channel: channel as SiteChannel };
}
