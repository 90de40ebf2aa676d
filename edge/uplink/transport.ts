import type { OutgoingBatch } from './delivery.js';
import type { LinkFailure } from './link-failure.js';

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

/** What a transport needs to reach the cloud; files are read already. */
export interface TransportOptions {
  url: string;
  siteId: string;
  protocolVersion: 4 | 5;
  username: string | undefined;
  password: string | undefined;
  /** PEM contents: the CA that signed the cloud's certificate, and this site's client certificate and key. */
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** The largest MQTT packet or HTTPS response body taken from the cloud side. */
  maxIncomingBytes: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

/**
 * The commands side of the link (MQTT only): command messages from the site's commands topic go
 * to `offer`; while the link is up, results go out through the publisher `linkUp` hands over.
 */
export interface CommandLink {
  offer(payload: Buffer): void;
  linkUp(publish: (payload: string, done: (err?: Error) => void) => void): void;
  linkDown(): void;
}

/**
 * Carries the batch in flight to the cloud and the cloud's answer back to the delivery (see
 * delivery.ts): MQTT (mqtt-transport.ts) or HTTPS (https-transport.ts).
 */
export interface UplinkTransport {
  start(): void;
  send(batch: OutgoingBatch): void;
  linkState(): LinkState;
  /** Why the last attempt to reach the cloud failed; undefined once the link works again. */
  lastFailure(): LinkFailure | undefined;
  /** The transport's own counters for the status. */
  counters(): Record<string, number>;
  stop(): Promise<void>;
}
