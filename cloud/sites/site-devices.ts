import type { AnyReading, PropertyValue } from '../../shared/reading.js';

/** Devices one site may have tracked; a batch naming more leaves the rest uncounted (and says so). */
export const MAX_DEVICES_PER_SITE = 1_000;
/** Property names kept per device: the newest reading's first ones (an air conditioner has about 20). */
export const MAX_PROPERTIES_PER_DEVICE = 64;

/** Device events kept per site, the newest; older ones fall off. */
export const MAX_EVENTS_PER_SITE = 100;

/** One device event (found, moved, offline, …) as the site's timeline shows it. */
export interface SiteDeviceEvent {
  deviceId: string;
  ts: string;
  type: string;
  fromAddress?: string;
  toAddress?: string;
}

/** What the cloud last heard of one device. */
export interface SiteDevice {
  deviceId: string;
  eoj: string;
  address: string;
  /** When the gateway last received anything of it (the reading's ts). */
  lastSeenAt: string;
  /** From the device's latest online/offline event; online until it said otherwise. */
  online: boolean;
  /** Its latest values, newest reading wins per property. */
  properties: Record<string, PropertyValue>;
}

/** Devices online of total, and whether the cap left some out. */
export interface DeviceCounts {
  online: number;
  total: number;
  capped: boolean;
}

/**
 * The devices one site's batches named, with their latest values and whether their latest
 * availability event said offline. Bounded: at most MAX_DEVICES_PER_SITE devices and
 * MAX_PROPERTIES_PER_DEVICE values each; a device past the cap is not tracked, only noted. The
 * last MAX_EVENTS_PER_SITE device events, of any device, make the site's timeline.
 */
export class SiteDevices {
  private readonly devices = new Map<string, SiteDevice>();
  private capped = false;
  private events: SiteDeviceEvent[] = [];

  /** Takes one accepted batch's readings, in seq order. */
  take(readings: readonly AnyReading[]): void {
    for (const reading of readings) {
      if (reading.kind === 'event') this.remember({ deviceId: reading.deviceId, ts: reading.ts, ...reading.event });
      const device = this.device(reading);
      if (device === undefined) continue;
      device.address = reading.address;
      if (reading.ts > device.lastSeenAt) device.lastSeenAt = reading.ts;
      if (reading.kind === 'event') {
        if (reading.event.type === 'offline') device.online = false;
        else if (reading.event.type === 'online') device.online = true;
      } else {
        mergeProperties(device.properties, reading.properties);
      }
    }
  }

  counts(): DeviceCounts {
    let online = 0;
    for (const device of this.devices.values()) if (device.online) online += 1;
    return { online, total: this.devices.size, capped: this.capped };
  }

  /** The latest device events, newest first. */
  recentEvents(): SiteDeviceEvent[] {
    return this.events.slice(-MAX_EVENTS_PER_SITE).reverse();
  }

  list(): SiteDevice[] {
    return [...this.devices.values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }

  private remember(event: SiteDeviceEvent): void {
    this.events.push(event);
    // Trimmed in steps, not per event: a batch of many events costs one copy, not one each.
    if (this.events.length > 2 * MAX_EVENTS_PER_SITE) this.events = this.events.slice(-MAX_EVENTS_PER_SITE);
  }

  private device(reading: AnyReading): SiteDevice | undefined {
    const known = this.devices.get(reading.deviceId);
    if (known !== undefined) return known;
    if (this.devices.size >= MAX_DEVICES_PER_SITE) {
      this.capped = true;
      return undefined;
    }
    const added: SiteDevice = { deviceId: reading.deviceId, eoj: reading.eoj, address: reading.address, lastSeenAt: reading.ts, online: true, properties: Object.create(null) as Record<string, PropertyValue> };
    this.devices.set(reading.deviceId, added);
    return added;
  }
}

/** Newest values over the kept ones; a new name only while there is room (the map has no prototype: any name is data). */
function mergeProperties(kept: Record<string, PropertyValue>, newest: Record<string, PropertyValue>): void {
  let count = Object.keys(kept).length;
  for (const [name, value] of Object.entries(newest)) {
    if (Object.hasOwn(kept, name)) kept[name] = value;
    else if (count < MAX_PROPERTIES_PER_DEVICE) {
      kept[name] = value;
      count += 1;
    }
  }
}
