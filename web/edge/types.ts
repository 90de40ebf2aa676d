/** What the status page reads from the edge's API (/api/v1/status, /api/v1/devices, readings). */
export interface GatewayStatus {
  siteId: string;
  version: string;
  uptimeSeconds: number;
  uplink: {
    state: 'connected' | 'disconnected';
    lastAckAt: string | null;
    failure: { reason: string; detail: string; at: string } | null;
  };
  backlog: { depth: number; oldestUnsentAgeSeconds: number | null };
  readingsRecorded: number;
  droppedReadings: number;
  droppedByReason: Record<string, number>;
  databaseBytes: number;
  databaseCapBytes: number;
  diskFreeBytes: number | null;
  /** `timeZone`: the site's IANA zone, in which the page shows times. */
  clock: { now: string; plausible: boolean; timeZone: string };
  echonet: { interface: string; up: boolean };
  devices: Record<'online' | 'unreachable' | 'offline', number>;
}

export type PropertyValue = string | number | boolean | null;

export interface DeviceOverview {
  id: string;
  deviceType: string;
  eoj: string;
  address: string;
  availability: 'online' | 'unreachable' | 'offline';
  lastSeenAt: string;
  latest: { properties: Record<string, PropertyValue>; updatedAt: string } | null;
  requests: { requests: number; answers: number; timeouts: number; retries: number; batchSize: number } | null;
}

export interface Reading {
  seq: number;
  ts: string;
  kind: string;
  properties?: Record<string, PropertyValue>;
  /** On `kind: 'event'` readings only. */
  event?: { type: string; fromAddress?: string; toAddress?: string };
}
