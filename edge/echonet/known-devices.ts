/**
 * A known device as the edge keeps it between runs: JSON written by this release, read back with
 * every field checked (a file from an older release or a damaged row must not put a wrong address
 * or map into the controller; such a row is skipped and the device is simply found again).
 */
import type { KnownDevice } from './controller.js';
import type { NodeKey } from './device-id.js';
import type { PropertyMap } from './property-map.js';
import type { PropertyMaps } from './registry.js';

/** Bumped when the shape changes; rows of another version are skipped (found again by search). */
const FORMAT = 1;

export function knownDeviceJson(device: KnownDevice): string {
  return JSON.stringify({ format: FORMAT, ...device });
}

export function parseKnownDevice(json: string): KnownDevice | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value.format !== FORMAT || !isRecord(value.identity)) return undefined;
  const { deviceId, node, eoj, address, manufacturer, maps } = value.identity;
  if (typeof deviceId !== 'string' || typeof eoj !== 'string' || !/^[0-9a-f]{6}$/.test(eoj) || typeof address !== 'string') return undefined;
  if (!(manufacturer === null || (typeof manufacturer === 'string' && /^[0-9a-f]{6}$/.test(manufacturer)))) return undefined;
  const key = nodeKey(node);
  const propertyMaps = mapsOf(maps);
  if (key === undefined || propertyMaps === undefined) return undefined;
  const identity = { deviceId, node: key, eoj, address, manufacturer, maps: propertyMaps };
  const learned = learnedOf(value.learned);
  return learned === undefined ? { identity } : { identity, learned };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nodeKey(value: unknown): NodeKey | undefined {
  if (!isRecord(value)) return undefined;
  if (value.kind === 'id' && typeof value.id === 'string' && /^[0-9a-f]{34}$/.test(value.id)) return { kind: 'id', id: value.id };
  if (value.kind === 'address' && typeof value.address === 'string') return { kind: 'address', address: value.address };
  return undefined;
}

const isEpc = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0x80 && value <= 0xff;

function mapOf(value: unknown): PropertyMap | null | undefined {
  if (value === null) return null;
  return Array.isArray(value) && value.length <= 128 && value.every(isEpc) ? value : undefined;
}

function mapsOf(value: unknown): PropertyMaps | undefined {
  if (!isRecord(value)) return undefined;
  const [announce, set, get] = [mapOf(value.announce), mapOf(value.set), mapOf(value.get)];
  if (announce === undefined || set === undefined || get === undefined) return undefined;
  return { announce, set, get };
}

function learnedOf(value: unknown): KnownDevice['learned'] {
  if (!isRecord(value) || !isRecord(value.batchSize) || !Array.isArray(value.unsupported) || !value.unsupported.every(isEpc)) return undefined;
  const { answeredUpTo, refusedFrom } = value.batchSize;
  if (typeof answeredUpTo !== 'number' || !Number.isInteger(answeredUpTo) || answeredUpTo < 0) return undefined;
  if (!(refusedFrom === null || (typeof refusedFrom === 'number' && Number.isInteger(refusedFrom) && refusedFrom > 0))) return undefined;
  return { batchSize: { answeredUpTo, refusedFrom }, unsupported: value.unsupported };
}
