import { readFixedHeader } from '../../shared/mqtt/fixed-header.js';

/**
 * Watches the MQTT packets on one connection and reports the first whose announced length is over
 * a limit, as soon as its fixed header arrives: before the broker's parser has buffered the body.
 * aedes has no packet size limit of its own, and a 50 MB publish would otherwise sit in its memory
 * (and in an offline client's queue) whole.
 */
export class PacketSizeGuard {
  /** Bytes of the current packet's body still to skip. */
  private bodyLeft = 0;
  private header: number[] = [];

  constructor(private readonly maxPacketBytes: number) {}

  /** Feeds a chunk; returns the offending length (or -1 for a malformed length) once one is seen, else undefined. */
  feed(chunk: Buffer): number | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, chunk.length - offset);
        this.bodyLeft -= skip;
        offset += skip;
        continue;
      }
      this.header.push(chunk[offset] as number);
      offset += 1;
      const header = readFixedHeader(this.header);
      if (header.state === 'incomplete') continue;
      if (header.state === 'malformed') return -1;
      this.header = [];
      const bytes = header.headerBytes + header.remaining;
      if (bytes > this.maxPacketBytes) return bytes;
      this.bodyLeft = header.remaining;
    }
    return undefined;
  }
}
