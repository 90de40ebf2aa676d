/** Lowercase hex of a byte view, without copying the bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Two lowercase hex digits, the form EPCs take as keys in `Observation.raw`. */
export function byteHex(value: number): string {
  return value.toString(16).padStart(2, '0');
}

/** Bytes of an even-length hex string; `undefined` for anything that is not clean hex. */
export function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
