/**
 * Property maps (EPC 0x9D status-change announcement, 0x9E Set, 0x9F Get).
 * First byte = number of properties. Below 16 the EPCs follow as a list; from 16 on a 16-byte bitmap
 * follows (APPENDIX Annex 1): byte n (1–16), bit b set ⇔ EPC 0x80 + 0x10·b + (n − 1).
 */
import { type Result, fail, succeed } from './result.js';

const BITMAP_THRESHOLD = 16;
const BITMAP_BYTES = 16;
const FIRST_EPC = 0x80;

export type PropertyMapErrorCode = 'EMPTY' | 'LENGTH_MISMATCH' | 'INVALID_EPC';

/** EPCs in ascending order, without duplicates. */
export type PropertyMap = readonly number[];

function sortedUnique(epcs: Iterable<number>): number[] {
  return [...new Set(epcs)].sort((a, b) => a - b);
}

function bitmapByteIndex(epc: number): number {
  return epc & 0x0f;
}

function bitmapBit(epc: number): number {
  return (epc - FIRST_EPC) >> 4;
}

function decodeList(edt: Uint8Array, count: number): Result<PropertyMap, PropertyMapErrorCode> {
  if (edt.length !== count + 1) {
    return fail('LENGTH_MISMATCH', `list map announces ${count} EPCs but carries ${edt.length - 1}`);
  }
  const epcs = edt.subarray(1);
  const invalid = epcs.find((epc) => epc < FIRST_EPC);
  if (invalid !== undefined) return fail('INVALID_EPC', `EPC 0x${invalid.toString(16)} is below 0x80`);
  return succeed(sortedUnique(epcs));
}

function decodeBitmap(edt: Uint8Array): Result<PropertyMap, PropertyMapErrorCode> {
  if (edt.length !== BITMAP_BYTES + 1) {
    return fail('LENGTH_MISMATCH', `bitmap map needs ${BITMAP_BYTES + 1} bytes, got ${edt.length}`);
  }
  const epcs: number[] = [];
  for (let n = 0; n < BITMAP_BYTES; n++) {
    const byte = edt[n + 1] as number;
    for (let bit = 0; bit < 8; bit++) {
      if (byte & (1 << bit)) epcs.push(FIRST_EPC + 0x10 * bit + n);
    }
  }
  // The bitmap is the content and the count only its summary: a device whose count disagrees still
  // told us exactly which EPCs it has, and rejecting the map would cost us every one of them.
  return succeed(sortedUnique(epcs));
}

export function decodePropertyMap(edt: Uint8Array): Result<PropertyMap, PropertyMapErrorCode> {
  if (edt.length === 0) return fail('EMPTY', 'property map without a count byte');
  const count = edt[0] as number;
  return count < BITMAP_THRESHOLD ? decodeList(edt, count) : decodeBitmap(edt);
}

/** Encodes in the form the count calls for; throws on EPCs outside 0x80–0xFF (our own bug). */
export function encodePropertyMap(epcs: Iterable<number>): Uint8Array {
  const unique = sortedUnique(epcs);
  const bad = unique.find((epc) => !Number.isInteger(epc) || epc < FIRST_EPC || epc > 0xff);
  if (bad !== undefined) throw new RangeError(`EPC ${bad} cannot appear in a property map`);
  if (unique.length < BITMAP_THRESHOLD) return Uint8Array.from([unique.length, ...unique]);
  const out = new Uint8Array(BITMAP_BYTES + 1);
  out[0] = unique.length;
  for (const epc of unique) {
    const index = 1 + bitmapByteIndex(epc);
    out[index] = (out[index] as number) | (1 << bitmapBit(epc));
  }
  return out;
}
