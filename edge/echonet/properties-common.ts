/** Codecs shared by more than one class: property maps and EOJ lists (as the observation shows them). */
import type { PropertyValue } from '../../shared/reading.js';
import { type Eoj, eojToHex, parseEojHex } from './eoj.js';
import { byteHex } from './hex.js';
import { type PropertyCodec, customCodec, invalid, value } from './property-codec.js';
import { decodePropertyMap, encodePropertyMap } from './property-map.js';
import { type Result, fail, succeed } from './result.js';

/** Property maps as comma-separated EPCs in lowercase hex, e.g. `80,81,b3`. */
export function propertyMapCodec(epc: number, name: string): PropertyCodec {
  return customCodec(
    epc,
    name,
    (edt) => {
      const map = decodePropertyMap(edt);
      return map.ok ? value(map.value.map(byteHex).join(',')) : invalid(map.error.message);
    },
    (v) => {
      if (typeof v !== 'string') return undefined;
      const epcs = v === '' ? [] : v.split(',').map((part) => Number.parseInt(part, 16));
      if (epcs.some((e) => !Number.isInteger(e) || e < 0x80 || e > 0xff)) return undefined;
      return encodePropertyMap(epcs);
    },
  );
}

/** Node profile instance lists carry at most 84 EOJs per frame (ECHONET Lite spec, 0xD5/0xD6). */
export const MAX_LISTED_INSTANCES = 84;

export type InstanceListErrorCode = 'EMPTY' | 'LENGTH_MISMATCH';

/** `count(1) + min(count, 84) × EOJ(3)`; the count may exceed what is listed when a node has more than 84. */
export function decodeInstanceList(edt: Uint8Array): Result<Eoj[], InstanceListErrorCode> {
  if (edt.length === 0) return fail('EMPTY', 'instance list without a count byte');
  const listed = Math.min(edt[0] as number, MAX_LISTED_INSTANCES);
  if (edt.length !== 1 + 3 * listed) return fail('LENGTH_MISMATCH', `instance list of ${listed} EOJs in ${edt.length} bytes`);
  const eojs: Eoj[] = [];
  for (let at = 1; at < edt.length; at += 3) {
    eojs.push({ classGroup: edt[at] as number, classCode: edt[at + 1] as number, instance: edt[at + 2] as number });
  }
  return succeed(eojs);
}

export function encodeInstanceList(eojs: readonly Eoj[]): Uint8Array {
  const listed = eojs.slice(0, MAX_LISTED_INSTANCES);
  const out = new Uint8Array(1 + 3 * listed.length);
  out[0] = Math.min(eojs.length, 0xff);
  listed.forEach((e, i) => out.set([e.classGroup, e.classCode, e.instance], 1 + 3 * i));
  return out;
}

function parseEojListValue(v: PropertyValue): Eoj[] | undefined {
  if (typeof v !== 'string') return undefined;
  if (v === '') return [];
  const eojs = v.split(',').map(parseEojHex);
  return eojs.every((e): e is Eoj => e !== undefined) ? eojs : undefined;
}

/** Instance lists as comma-separated EOJs, e.g. `013001,013002`. */
export function instanceListCodec(epc: number, name: string): PropertyCodec {
  return customCodec(
    epc,
    name,
    (edt) => {
      const list = decodeInstanceList(edt);
      return list.ok ? value(list.value.map(eojToHex).join(',')) : invalid(list.error.message);
    },
    (v) => {
      const eojs = parseEojListValue(v);
      return eojs === undefined ? undefined : encodeInstanceList(eojs);
    },
  );
}

/** Class lists (0xD7) as comma-separated class codes, e.g. `0130,05ff`. */
export function classListCodec(epc: number, name: string): PropertyCodec {
  return customCodec(
    epc,
    name,
    (edt) => {
      if (edt.length === 0) return invalid('class list without a count byte');
      const listed = Math.min(edt[0] as number, Math.floor((edt.length - 1) / 2));
      if (edt.length !== 1 + 2 * listed) return invalid(`class list of ${edt[0]} classes in ${edt.length} bytes`);
      const classes: string[] = [];
      for (let at = 1; at < edt.length; at += 2) classes.push(byteHex(edt[at] as number) + byteHex(edt[at + 1] as number));
      return value(classes.join(','));
    },
    (v) => {
      if (typeof v !== 'string') return undefined;
      const parts = v === '' ? [] : v.split(',');
      if (parts.length > 0xff || parts.some((p) => !/^[0-9a-fA-F]{4}$/.test(p))) return undefined;
      const out = new Uint8Array(1 + 2 * parts.length);
      out[0] = parts.length;
      parts.forEach((p, i) => out.set([Number.parseInt(p.slice(0, 2), 16), Number.parseInt(p.slice(2), 16)], 1 + 2 * i));
      return out;
    },
  );
}
