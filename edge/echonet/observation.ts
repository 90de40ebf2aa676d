/** Turns what a device sent into the Observation the rest of the gateway consumes. */
import type { DeviceEventObservation, Observation, ReadingKind } from '../../shared/reading.js';
import type { DeviceEvent } from './controller.js';
import type { Eoj } from './eoj.js';
import { eojToHex } from './eoj.js';
import type { Property } from './frame.js';
import { type DecodedProperties, decodeProperties } from './properties.js';

export interface ObservationSource {
  readonly deviceId: string;
  readonly eoj: Eoj;
  readonly address: string;
}

export interface BuiltObservation {
  readonly observation: Observation;
  readonly invalid: DecodedProperties['invalid'];
}

/** `undefined` when the device sent no value at all (e.g. a Get_SNA refusing every EPC). */
export function buildObservation(
  source: ObservationSource,
  kind: ReadingKind,
  properties: readonly Property[],
  receivedAt: Date,
): BuiltObservation | undefined {
  const decoded = decodeProperties(source.eoj, properties);
  if (Object.keys(decoded.raw).length === 0) return undefined;
  return {
    observation: {
      deviceId: source.deviceId,
      eoj: eojToHex(source.eoj),
      address: source.address,
      ts: receivedAt.toISOString(),
      kind,
      properties: decoded.properties,
      raw: decoded.raw,
    },
    invalid: decoded.invalid,
  };
}

/**
 * A device event as the cloud gets it: found, moved (with both addresses), online / unreachable /
 * offline, propertyMapChanged. Numbered in the same seq as the readings, so the cloud can tell a
 * silent device (its offline event arrived) from a silent gateway (nothing arrives at all).
 */
export function deviceEventObservation(event: DeviceEvent, at: Date): DeviceEventObservation {
  const { device } = event;
  const base = { deviceId: device.deviceId, eoj: device.eoj, address: device.address, ts: at.toISOString(), kind: 'event' as const };
  switch (event.type) {
    case 'discovered':
      return { ...base, event: { type: 'found' } };
    case 'moved':
      return { ...base, event: { type: 'moved', fromAddress: event.from, toAddress: device.address } };
    case 'availability':
      return { ...base, event: { type: device.availability } };
    case 'propertyMapChanged':
      return { ...base, event: { type: 'propertyMapChanged' } };
  }
}
