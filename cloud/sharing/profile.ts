/** The profile file an analyst's client reads (PROTOCOL.md, "Profile File Format"). */
import type { CloudConfig } from '../config.js';

export interface SharingProfile {
  shareCredentialsVersion: 1;
  endpoint: string;
  bearerToken: string;
  expirationTime: string;
}

export function sharingProfile(endpoint: string, token: string, expiresAt: Date): SharingProfile {
  return { shareCredentialsVersion: 1, endpoint, bearerToken: token, expirationTime: expiresAt.toISOString() };
}

/**
 * Where analysts reach the protocol: `sharing.publicUrl` + prefix, else the API's own address. A
 * wildcard listen address names no host an analyst could use, so then publicUrl is required.
 */
export function sharingEndpoint(config: CloudConfig): string {
  const { publicUrl, prefix } = config.sharing;
  if (publicUrl !== '') return `${publicUrl}${prefix}`;
  const { host, port, tls } = config.api;
  if (['0.0.0.0', '::', '[::]'].includes(host)) {
    throw new Error(`api.host ${host} names no address an analyst can reach: set sharing.publicUrl (e.g. https://lake.example.com) or give --endpoint`);
  }
  const scheme = tls.certFile === undefined ? 'http' : 'https';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${prefix}`;
}
