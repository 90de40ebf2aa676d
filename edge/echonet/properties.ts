/**
 * Which codec applies to which (object class, EPC), and decoding of whole property lists into the
 * `properties` + `raw` pair an Observation carries.
 */
import type { PropertyValue } from '../../shared/reading.js';
import { type Eoj, ClassCode, classOf } from './eoj.js';
import type { Property } from './frame.js';
import { byteHex, toHex } from './hex.js';
import type { PropertyCodec } from './property-codec.js';
import { HOME_AIR_CONDITIONER_CODECS } from './properties-home-air-conditioner.js';
import { NODE_PROFILE_CODECS } from './properties-node-profile.js';
import { SUPER_CLASS_CODECS } from './properties-super-class.js';
import { type Result, fail, succeed } from './result.js';

/** 0xF0–0xFF belong to each maker; we never guess their meaning. */
export const FIRST_VENDOR_EPC = 0xf0;

interface CodecTable {
  readonly byEpc: ReadonlyMap<number, PropertyCodec>;
  readonly byName: ReadonlyMap<string, PropertyCodec>;
}

function table(...layers: ReadonlyArray<readonly PropertyCodec[]>): CodecTable {
  const byEpc = new Map<number, PropertyCodec>();
  for (const codecs of layers) for (const codec of codecs) byEpc.set(codec.epc, codec); // later layers override
  return { byEpc, byName: new Map([...byEpc.values()].map((c) => [c.name, c])) };
}

const DEVICE_SUPER_CLASS = table(SUPER_CLASS_CODECS);
const CLASS_TABLES = new Map<number, CodecTable>([
  [ClassCode.nodeProfile, table(NODE_PROFILE_CODECS)],
  [ClassCode.homeAirConditioner, table(SUPER_CLASS_CODECS, HOME_AIR_CONDITIONER_CODECS)],
]);

function tableFor(eoj: Eoj): CodecTable {
  return CLASS_TABLES.get(classOf(eoj)) ?? DEVICE_SUPER_CLASS;
}

export function isVendorEpc(epc: number): boolean {
  return epc >= FIRST_VENDOR_EPC;
}

export function codecFor(eoj: Eoj, epc: number): PropertyCodec | undefined {
  return isVendorEpc(epc) ? undefined : tableFor(eoj).byEpc.get(epc);
}

export function codecByName(eoj: Eoj, name: string): PropertyCodec | undefined {
  return tableFor(eoj).byName.get(name);
}

export interface DecodedProperties {
  /** MRA shortName → value; `null` = the device said "no valid value". */
  readonly properties: Record<string, PropertyValue>;
  /** EPC (two hex digits) → EDT hex, for every EPC that came with data. */
  readonly raw: Record<string, string>;
  /** EPCs we know but whose bytes made no sense, for logging. */
  readonly invalid: ReadonlyArray<{ readonly epc: number; readonly reason: string }>;
}

/** Decodes what a device sent; EPCs with PDC 0 (refused in a SNA) are neither values nor raw. */
export function decodeProperties(eoj: Eoj, list: readonly Property[]): DecodedProperties {
  const properties: Record<string, PropertyValue> = {};
  const raw: Record<string, string> = {};
  const invalid: Array<{ epc: number; reason: string }> = [];
  for (const { epc, edt } of list) {
    if (edt.length === 0) continue;
    raw[byteHex(epc)] = toHex(edt);
    const codec = codecFor(eoj, epc);
    if (codec === undefined) continue;
    const decoded = codec.decode(edt);
    if (decoded.kind === 'value') properties[codec.name] = decoded.value;
    else invalid.push({ epc, reason: decoded.reason });
  }
  return { properties, raw, invalid };
}

export type PropertyEncodeErrorCode = 'UNKNOWN_PROPERTY' | 'INVALID_VALUE';

/** Encodes a value by property name into an EPC + EDT for an object; Set requests and the simulator use this. */
export function encodeByName(eoj: Eoj, name: string, value: PropertyValue): Result<Property, PropertyEncodeErrorCode> {
  const codec = codecByName(eoj, name);
  if (codec === undefined) return fail('UNKNOWN_PROPERTY', `no property ${name} in class 0x${classOf(eoj).toString(16).padStart(4, '0')}`);
  const encoded = codec.encode(value);
  return encoded.ok ? succeed({ epc: codec.epc, edt: encoded.value }) : encoded;
}
