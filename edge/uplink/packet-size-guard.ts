import { encodeRemainingLength, readFixedHeader } from '../../shared/mqtt/fixed-header.js';

/** A packet the guard kept out of the MQTT client. */
export interface OversizedPacket {
  /** MQTT packet type, e.g. `publish`. */
  cmd: string;
  /** Its whole size on the wire. */
  bytes: number;
  /** A PUBLISH's topic. */
  topic?: string;
}

/** Something in the byte stream that no broker may send: the connection must go. */
export class PacketStreamError extends Error {
  /** mqtt.js passes on only stream errors with a code. */
  readonly code = 'ERR_ECHOLAKE_MQTT_STREAM';
}

const PACKET_TYPES = ['reserved', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'];
const PUBLISH = 3;
/** A PUBLISH's topic length field, the longest topic, its packet id. */
const MAX_PUBLISH_HEAD = 2 + 0xffff + 2;

type Mode =
  | { kind: 'header' }
  | { kind: 'pass'; left: number }
  | { kind: 'capture'; first: number; bytes: number; left: number; head: Buffer[] }
  | { kind: 'skip'; first: number; bytes: number; left: number; topic: string; packetId: Buffer };

/**
 * Sits between the broker's socket and the MQTT client's parser, which would otherwise gather
 * every byte of a packet, however large, before anything can look at it: one 50 MB PUBLISH on the
 * acks topic was enough to exhaust the edge's 64 MB heap, and the persistent session handed it
 * over again at every restart. The guard reads only the packet framing. A packet within the limit
 * passes untouched. An oversized PUBLISH is never held: its topic and packet id are kept, the
 * rest is skipped as it arrives, and in its place the client gets the same PUBLISH with an empty
 * payload — so mqtt.js acknowledges it in order like any other, and the broker deletes it from
 * the session instead of replaying it. Any other oversized packet (no broker sends a 1 MB SUBACK)
 * or broken framing ends the connection.
 *
 * MQTT 5 brokers are also told the limit in CONNECT (Maximum Packet Size) and then drop such
 * packets themselves; 3.1.1 has no way to say it, hence the guard.
 */
export class PacketSizeGuard {
  private mode: Mode = { kind: 'header' };
  private header: number[] = [];

  constructor(
    private readonly maxPacketBytes: number,
    private readonly protocolVersion: number,
    private readonly onOversized: (packet: OversizedPacket) => void,
  ) {}

  /** The bytes to hand to the client for this chunk from the socket. */
  feed(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const mode = this.mode;
      if (mode.kind === 'header') {
        this.header.push(chunk[offset] as number);
        offset += 1;
        this.onHeaderByte(out);
        continue;
      }
      const take = Math.min(mode.left, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + take);
      offset += take;
      mode.left -= take;
      if (mode.kind === 'pass') {
        out.push(piece);
        if (mode.left === 0) this.mode = { kind: 'header' };
      } else if (mode.kind === 'capture') {
        this.capture(mode, piece);
      }
      const now = this.mode;
      if (now.kind === 'skip' && now.left === 0) this.replace(now, out);
    }
    return out;
  }

  /** A fixed header is one type byte and a remaining length of one to four bytes. */
  private onHeaderByte(out: Buffer[]): void {
    const header = readFixedHeader(this.header);
    if (header.state === 'incomplete') return;
    if (header.state === 'malformed') throw new PacketStreamError('the broker sent a packet whose remaining length runs past four bytes (broken MQTT framing)');
    const { first, remaining, type } = header;
    const bytes = header.headerBytes + remaining;
    const raw = this.header;
    this.header = [];
    if (bytes <= this.maxPacketBytes) {
      out.push(Buffer.from(raw));
      this.mode = remaining === 0 ? { kind: 'header' } : { kind: 'pass', left: remaining };
      return;
    }
    if (type !== PUBLISH) {
      throw new PacketStreamError(`the broker sent a ${PACKET_TYPES[type] ?? 'reserved'} packet of ${bytes} bytes, above the limit of ${this.maxPacketBytes}`);
    }
    this.mode = { kind: 'capture', first, bytes, left: remaining, head: [] };
  }

  /** Gathers the PUBLISH's topic and packet id (at most 64 KiB), then skips the rest. */
  private capture(mode: Extract<Mode, { kind: 'capture' }>, piece: Buffer): void {
    const head = Buffer.concat([...mode.head, piece]);
    const qos = (mode.first >> 1) & 0x03;
    const need = head.length < 2 ? MAX_PUBLISH_HEAD : 2 + head.readUInt16BE(0) + (qos > 0 ? 2 : 0);
    if (head.length >= 2 && need > head.length + mode.left) throw new PacketStreamError('the broker sent a PUBLISH shorter than its own topic (broken MQTT framing)');
    if (head.length < need) {
      // Still short of the topic and packet id: kept (at most 64 KiB), the rest is yet to come.
      mode.head = [head];
      return;
    }
    const topicEnd = 2 + head.readUInt16BE(0);
    // Bytes of this piece beyond the head are payload: dropped, like the rest still to come.
    this.mode = {
      kind: 'skip',
      first: mode.first,
      bytes: mode.bytes,
      left: mode.left,
      topic: head.toString('utf8', 2, topicEnd),
      packetId: Buffer.from(head.subarray(topicEnd, need)),
    };
  }

  /** The oversized PUBLISH has passed: the client gets it without its payload (and, on MQTT 5, without its properties). */
  private replace(mode: Extract<Mode, { kind: 'skip' }>, out: Buffer[]): void {
    const topic = Buffer.from(mode.topic, 'utf8');
    const properties = this.protocolVersion === 5 ? Buffer.from([0]) : Buffer.alloc(0);
    const length = 2 + topic.length + mode.packetId.length + properties.length;
    const topicLength = Buffer.alloc(2);
    topicLength.writeUInt16BE(topic.length);
    out.push(Buffer.from([mode.first, ...encodeRemainingLength(length)]), topicLength, topic, mode.packetId, properties);
    this.mode = { kind: 'header' };
    this.onOversized({ cmd: 'publish', bytes: mode.bytes, topic: mode.topic });
  }
}
