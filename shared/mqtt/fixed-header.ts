/**
 * An MQTT fixed header: one type byte, then the remaining length in one to four bytes of seven
 * bits each (MQTT 3.1.1 §2.2.3, 5.0 §1.5.5). Read byte by byte as it arrives, so a packet's size is
 * known before any of its body is buffered.
 */
export type FixedHeader =
  | { state: 'incomplete' }
  | { state: 'malformed' }
  | { state: 'complete'; type: number; first: number; remaining: number; headerBytes: number };

/** The header read so far (type byte first); `incomplete` until its last length byte. */
export function readFixedHeader(header: readonly number[]): FixedHeader {
  if (header.length < 2) return { state: 'incomplete' };
  const last = header[header.length - 1] as number;
  if (last & 0x80) return header.length === 5 ? { state: 'malformed' } : { state: 'incomplete' };
  let remaining = 0;
  for (let i = header.length - 1; i >= 1; i -= 1) remaining = remaining * 128 + ((header[i] as number) & 0x7f);
  const first = header[0] as number;
  return { state: 'complete', type: first >> 4, first, remaining, headerBytes: header.length };
}

/** The remaining-length bytes for a body of `value` bytes. */
export function encodeRemainingLength(value: number): number[] {
  const bytes: number[] = [];
  let left = value;
  do {
    let byte = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) byte |= 0x80;
    bytes.push(byte);
  } while (left > 0);
  return bytes;
}
