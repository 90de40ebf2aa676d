/**
 * What the gateway knows about each device: identity, where it is, what it supports, whether it
 * answers and its latest values. An interface, so the API can read it and a persistent store can
 * replace the in-memory one without the controller noticing.
 */
import type { Observation, PropertyValue } from '../../shared/reading.js';
import type { Availability } from './availability.js';
import type { NodeKey } from './device-id.js';
import { parseEojHex } from './eoj.js';
import { codecFor } from './properties.js';
import type { PropertyMap } from './property-map.js';

export interface PropertyMaps {
  /** 0x9D: what the device announces by INF on change. */
  readonly announce: PropertyMap | null;
  /** 0x9E */
  readonly set: PropertyMap | null;
  /** 0x9F */
  readonly get: PropertyMap | null;
}

export const UNKNOWN_MAPS: PropertyMaps = { announce: null, set: null, get: null };

export interface DeviceIdentity {
  readonly deviceId: string;
  readonly node: NodeKey;
  /** Six hex digits, e.g. `013001`. */
  readonly eoj: string;
  readonly address: string;
  /** Maker code (0x8A), six hex digits, if the device told us. */
  readonly manufacturer: string | null;
  readonly maps: PropertyMaps;
}

export interface LatestValues {
  readonly properties: Readonly<Record<string, PropertyValue>>;
  readonly raw: Readonly<Record<string, string>>;
  /** When the newest of these values arrived. */
  readonly ts: string;
}

export interface DeviceRecord extends DeviceIdentity {
  /** online, unreachable or offline; the rules are in availability.ts. */
  readonly availability: Availability;
  /** When the device entered its current availability. */
  readonly availabilitySince: string;
  readonly firstSeenAt: string;
  /** Last time the device answered or announced anything. */
  readonly lastSeenAt: string;
  readonly latest: LatestValues | null;
}

export type UpsertOutcome =
  | { readonly kind: 'added'; readonly device: DeviceRecord }
  | { readonly kind: 'moved'; readonly device: DeviceRecord; readonly from: string }
  | { readonly kind: 'updated'; readonly device: DeviceRecord };

export interface DeviceRegistry {
  /**
   * Adds a device (in availability `initial`) or refreshes it; a known deviceId at a new address is
   * the same device, moved.
   */
  upsert(identity: DeviceIdentity, at: Date, initial?: Availability): UpsertOutcome;
  get(deviceId: string): DeviceRecord | undefined;
  /** The device currently known at this address and EOJ. */
  findByEndpoint(address: string, eoj: string): DeviceRecord | undefined;
  list(): DeviceRecord[];
  /**
   * Makes `latest` say what the device last said: a poll's answer replaces it whole (a value no
   * longer answered is gone); an announcement replaces the EPCs it carries, decoded value and raw
   * bytes together (a value that no longer decodes loses its old decoding). Marks the device seen.
   */
  recordObservation(observation: Observation): void;
  /** Returns true when availability changed. */
  setAvailability(deviceId: string, availability: Availability, at: Date): boolean;
}

const endpointKey = (address: string, eoj: string): string => `${address}/${eoj}`;

export class InMemoryDeviceRegistry implements DeviceRegistry {
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly byEndpoint = new Map<string, string>();

  upsert(identity: DeviceIdentity, at: Date, initial: Availability = 'online'): UpsertOutcome {
    const existing = this.devices.get(identity.deviceId);
    const now = at.toISOString();
    const device: DeviceRecord = existing
      ? { ...existing, ...identity, maps: mergeMaps(existing.maps, identity.maps), lastSeenAt: now }
      : { ...identity, availability: initial, availabilitySince: now, firstSeenAt: now, lastSeenAt: now, latest: null };
    this.devices.set(device.deviceId, device);
    this.claimEndpoint(device, existing?.address);
    if (!existing) return { kind: 'added', device };
    if (existing.address !== identity.address) return { kind: 'moved', device, from: existing.address };
    return { kind: 'updated', device };
  }

  private claimEndpoint(device: DeviceRecord, previousAddress: string | undefined): void {
    if (previousAddress !== undefined && previousAddress !== device.address) {
      const oldKey = endpointKey(previousAddress, device.eoj);
      if (this.byEndpoint.get(oldKey) === device.deviceId) this.byEndpoint.delete(oldKey);
    }
    // Whoever answers at an endpoint now owns it; a device that used to be there has moved or gone.
    this.byEndpoint.set(endpointKey(device.address, device.eoj), device.deviceId);
  }

  get(deviceId: string): DeviceRecord | undefined {
    return this.devices.get(deviceId);
  }

  findByEndpoint(address: string, eoj: string): DeviceRecord | undefined {
    const deviceId = this.byEndpoint.get(endpointKey(address, eoj));
    return deviceId === undefined ? undefined : this.devices.get(deviceId);
  }

  list(): DeviceRecord[] {
    return [...this.devices.values()];
  }

  recordObservation(observation: Observation): void {
    const device = this.devices.get(observation.deviceId);
    if (device === undefined) return;
    const latest = observation.kind === 'poll' || device.latest === null ? valuesOf(observation) : announcedOver(device.latest, observation);
    this.devices.set(device.deviceId, { ...device, latest, lastSeenAt: observation.ts });
  }

  setAvailability(deviceId: string, availability: Availability, at: Date): boolean {
    const device = this.devices.get(deviceId);
    if (device === undefined || device.availability === availability) return false;
    const since = at.toISOString();
    const seen = availability === 'online' ? { lastSeenAt: since } : {};
    this.devices.set(deviceId, { ...device, availability, availabilitySince: since, ...seen });
    return true;
  }
}

export function sameMaps(a: PropertyMaps, b: PropertyMaps): boolean {
  const same = (x: PropertyMap | null, y: PropertyMap | null): boolean => (x === null || y === null ? x === y : x.length === y.length && x.every((epc, i) => epc === y[i]));
  return same(a.announce, b.announce) && same(a.set, b.set) && same(a.get, b.get);
}

function valuesOf(observation: Observation): LatestValues {
  return { properties: { ...observation.properties }, raw: { ...observation.raw }, ts: observation.ts };
}

/** The latest values with the EPCs an announcement carries replaced, decoded value and raw bytes alike. */
export function announcedOver(latest: LatestValues, observation: Observation): LatestValues {
  const eoj = parseEojHex(observation.eoj);
  const properties = { ...latest.properties };
  for (const epcHex of Object.keys(observation.raw)) {
    const name = eoj === undefined ? undefined : codecFor(eoj, Number.parseInt(epcHex, 16))?.name;
    if (name !== undefined) delete properties[name];
  }
  return { properties: { ...properties, ...observation.properties }, raw: { ...latest.raw, ...observation.raw }, ts: observation.ts };
}

/** A map we failed to read this time must not erase the one we read before. */
function mergeMaps(before: PropertyMaps, now: PropertyMaps): PropertyMaps {
  return { announce: now.announce ?? before.announce, set: now.set ?? before.set, get: now.get ?? before.get };
}
