import { Duplex } from 'node:stream';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { PacketSizeGuard } from './packet-size-guard.js';

export interface BrokerAddress {
  /** `mqtt:` or `mqtts:` */
  protocol: string;
  host: string;
  port: number;
  /** PEM contents for mqtts. */
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
}

/** Opens the TCP or TLS connection to the broker, the CA checked and the host name verified. */
export function openBrokerSocket(address: BrokerAddress): Socket {
  if (address.protocol === 'mqtt:') return connectTcp({ host: address.host, port: address.port, noDelay: true });
  const socket = connectTls({
    host: address.host,
    port: address.port,
    // SNI and the certificate's name check want the host name; an IP address is checked against the SAN as it is.
    ...(isIP(address.host) === 0 && { servername: address.host }),
    ca: address.ca,
    cert: address.cert,
    key: address.key,
    rejectUnauthorized: true,
  });
  socket.setNoDelay(true);
  return socket;
}

/**
 * The broker's socket as mqtt.js sees it: writes go straight through; what is read passes the
 * packet-size guard first. Errors and the end of the socket end this stream, which is how mqtt.js
 * learns that the link is gone.
 */
export class GuardedSocket extends Duplex {
  constructor(
    private readonly inner: Socket,
    guard: PacketSizeGuard,
  ) {
    super();
    inner.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      let pieces: Buffer[];
      try {
        pieces = guard.feed(chunk);
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      let more = true;
      for (const piece of pieces) more = this.push(piece) && more;
      if (!more) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => this.destroy());
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(callback);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(err);
  }
}
