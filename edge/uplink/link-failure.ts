/**
 * Why the uplink is not connected, in the words a technician on site can act on: the status page
 * shows the reason and what to check, rather than a raw error code.
 */

/** The cause of the last failed attempt to reach the cloud. */
export type LinkFailureReason = 'dns' | 'tls' | 'credentials' | 'refused' | 'closed' | 'no_route' | 'timeout' | 'other';

export interface LinkFailure {
  readonly reason: LinkFailureReason;
  /** The error's own words (code and message), never a secret: Node's and mqtt.js's errors carry none. */
  readonly detail: string;
  /** When it happened, ISO-8601 UTC. */
  readonly at: string;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
const ROUTE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EADDRNOTAVAIL']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ECONNABORTED']);
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);
/** MQTT CONNACK return codes (3.1.1: 4 bad user name or password, 5 not authorized; 5.0: 0x86, 0x87). */
const CREDENTIAL_CONNACK = new Set([4, 5, 0x86, 0x87]);

function isTlsError(code: string, message: string): boolean {
  return code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT'
    || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || /certificate|SSL|TLS/i.test(message);
}

/** The reason for an error from a connection attempt (socket, TLS or the broker's CONNACK). */
export function classifyLinkError(err: Error & { code?: unknown }): LinkFailureReason {
  const code = typeof err.code === 'string' ? err.code : '';
  if (typeof err.code === 'number') return CREDENTIAL_CONNACK.has(err.code) ? 'credentials' : 'other';
  if (DNS_CODES.has(code)) return 'dns';
  if (ROUTE_CODES.has(code)) return 'no_route';
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (REFUSED_CODES.has(code)) return 'refused';
  if (isTlsError(code, err.message)) return 'tls';
  return 'other';
}

/** The failure an error stands for; `reason` where the caller knows better than the error's code (an HTTP 401). */
export function linkFailure(err: Error & { code?: unknown }, reason = classifyLinkError(err), now = new Date()): LinkFailure {
  const code = typeof err.code === 'string' || typeof err.code === 'number' ? `${String(err.code)}: ` : '';
  return { reason, detail: `${code}${err.message}`.slice(0, 300), at: now.toISOString() };
}
