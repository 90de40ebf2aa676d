/**
 * Building blocks for property codecs: one codec per (class, EPC) turns EDT bytes into the value the
 * Web API guideline shows (boolean, enum string, number in the APPENDIX's unit, hex string) and back.
 *
 * Decoding distinguishes three outcomes, because the reading contract does:
 *  - a value, possibly `null` where the device reported "no valid value" (0xFD, 0x7E, overflow codes);
 *  - invalid bytes (wrong length, value outside the defined range): the name is left out and only the
 *    raw hex survives, so nothing the device said is lost but nothing wrong is claimed either.
 */
import type { PropertyValue } from '../../shared/reading.js';
import { fromHex, toHex } from './hex.js';
import { type Result, fail, succeed } from './result.js';

export type Decoded =
  | { readonly kind: 'value'; readonly value: PropertyValue }
  | { readonly kind: 'invalid'; readonly reason: string };

export type EncodeErrorCode = 'INVALID_VALUE';
export type EncodeResult = Result<Uint8Array, EncodeErrorCode>;

export interface PropertyCodec {
  readonly epc: number;
  /** The MRA shortName. */
  readonly name: string;
  decode(edt: Uint8Array): Decoded;
  encode(value: PropertyValue): EncodeResult;
}

export const value = (v: PropertyValue): Decoded => ({ kind: 'value', value: v });
export const invalid = (reason: string): Decoded => ({ kind: 'invalid', reason });
export const NO_VALID_VALUE: Decoded = value(null);

function invalidValue(name: string, v: PropertyValue): EncodeResult {
  return fail('INVALID_VALUE', `${name}: cannot encode ${JSON.stringify(v)}`);
}

function wrongLength(edt: Uint8Array, expected: number): Decoded {
  return invalid(`expected ${expected} byte(s), got ${edt.length}`);
}

function readUnsigned(edt: Uint8Array): number {
  let n = 0;
  for (const byte of edt) n = n * 256 + byte;
  return n;
}

function writeUnsigned(n: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let rest = n;
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

/** A one-byte state with a fixed table, e.g. ON 0x30 / OFF 0x31 → true / false. */
export function stateCodec<V extends string | boolean | number>(
  epc: number,
  name: string,
  table: ReadonlyArray<readonly [byte: number, value: V]>,
): PropertyCodec {
  const byByte = new Map<number, V>(table);
  const byValue = new Map<PropertyValue, number>(table.map(([byte, v]) => [v, byte]));
  return {
    epc,
    name,
    decode(edt) {
      if (edt.length !== 1) return wrongLength(edt, 1);
      const decoded = byByte.get(edt[0] as number);
      return decoded === undefined ? invalid(`undefined state 0x${(edt[0] as number).toString(16)}`) : value(decoded);
    },
    encode(v) {
      const byte = byValue.get(v);
      return byte === undefined ? invalidValue(name, v) : succeed(Uint8Array.of(byte));
    },
  };
}

export const onOffCodec = (epc: number, name: string): PropertyCodec =>
  stateCodec(epc, name, [
    [0x30, true],
    [0x31, false],
  ]);

/** 0x41 = yes (fault occurred, power saving on, …), 0x42 = no. */
export const yesNoCodec = (epc: number, name: string): PropertyCodec =>
  stateCodec(epc, name, [
    [0x41, true],
    [0x42, false],
  ]);

export interface UnsignedSpec {
  readonly bytes: number;
  readonly min: number;
  readonly max: number;
  /** Raw codes that mean "no valid value" (unmeasurable, undefined, overflow, underflow) → null. */
  readonly noValidValue?: readonly number[];
  /** Unit step of the raw integer, e.g. 0.001 for 0.001 kWh. */
  readonly step?: number;
}

export function unsignedCodec(epc: number, name: string, spec: UnsignedSpec): PropertyCodec {
  const step = spec.step ?? 1;
  const noValid = new Set(spec.noValidValue ?? []);
  // Decimal places of the step, so 1234567 × 0.001 comes out as 1234.567 and not 1234.5670000000002.
  const decimals = Math.max(0, Math.round(-Math.log10(step)));
  return {
    epc,
    name,
    decode(edt) {
      if (edt.length !== spec.bytes) return wrongLength(edt, spec.bytes);
      const raw = readUnsigned(edt);
      if (noValid.has(raw)) return NO_VALID_VALUE;
      if (raw < spec.min || raw > spec.max) return invalid(`${raw} outside ${spec.min}–${spec.max}`);
      return value(Number((raw * step).toFixed(decimals)));
    },
    encode(v) {
      if (v === null && spec.noValidValue?.[0] !== undefined) return succeed(writeUnsigned(spec.noValidValue[0], spec.bytes));
      if (typeof v !== 'number' || !Number.isFinite(v)) return invalidValue(name, v);
      const raw = Math.round(v / step);
      if (raw < spec.min || raw > spec.max) return invalidValue(name, v);
      return succeed(writeUnsigned(raw, spec.bytes));
    },
  };
}

/**
 * Signed one-byte temperature in °C, −127…125. 0x7E is "unmeasurable"; 0x7F and 0x80 are the
 * overflow/underflow codes (APPENDIX errata, Release C): all three mean "no valid reading".
 */
export function signedTemperatureCodec(epc: number, name: string): PropertyCodec {
  const NO_VALID = new Set([0x7e, 0x7f, 0x80]);
  return {
    epc,
    name,
    decode(edt) {
      if (edt.length !== 1) return wrongLength(edt, 1);
      const byte = edt[0] as number;
      if (NO_VALID.has(byte)) return NO_VALID_VALUE;
      return value(byte > 0x7f ? byte - 0x100 : byte);
    },
    encode(v) {
      if (v === null) return succeed(Uint8Array.of(0x7e));
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -127 || v > 125) return invalidValue(name, v);
      return succeed(Uint8Array.of(v < 0 ? v + 0x100 : v));
    },
  };
}

/** Opaque bytes shown as lowercase hex (identification number, maker code). */
export function hexCodec(epc: number, name: string, bytes: number): PropertyCodec {
  return {
    epc,
    name,
    decode(edt) {
      return edt.length === bytes ? value(toHex(edt)) : wrongLength(edt, bytes);
    },
    encode(v) {
      const decoded = typeof v === 'string' ? fromHex(v) : undefined;
      return decoded?.length === bytes ? succeed(decoded) : invalidValue(name, v);
    },
  };
}

/** A codec whose decode/encode are written out by hand (lists, versions, locations). */
export function customCodec(
  epc: number,
  name: string,
  decode: (edt: Uint8Array) => Decoded,
  encode: (v: PropertyValue) => Uint8Array | undefined,
): PropertyCodec {
  return {
    epc,
    name,
    decode,
    encode(v) {
      const bytes = encode(v);
      return bytes === undefined ? invalidValue(name, v) : succeed(bytes);
    },
  };
}
