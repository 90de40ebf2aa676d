/**
 * Watches the MQTT packets on one connection and reports the first whose announced length is over
 * a limit, as soon as its fixed header arrives: before the broker's parser has buffered the body.
 * aedes has no packet size limit of its own, and a 50 MB publish would otherwise sit in its memory
 * (and in an offline client's queue) whole.
 */
export class PacketSizeGuard {
  /** Bytes of the current packet's body still to skip. */
  private bodyLeft = 0;
  /** 0: expecting the first header byte; 1–4: reading the remaining-length bytes. */
  private lengthBytes = 0;
  private length = 0;
  private multiplier = 1;
  private inHeader = false;

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
      const byte = chunk[offset] as number;
      offset += 1;
      if (!this.inHeader) {
        // The packet type byte; the remaining length follows.
        this.inHeader = true;
        this.lengthBytes = 0;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if ((byte & 0x80) !== 0) {
        if (this.lengthBytes === 4) return -1;
        continue;
      }
      this.inHeader = false;
      // The whole packet: type byte, length bytes and body.
      if (1 + this.lengthBytes + this.length > this.maxPacketBytes) return 1 + this.lengthBytes + this.length;
      this.bodyLeft = this.length;
    }
    return undefined;
  }
}
