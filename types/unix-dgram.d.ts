// The package ships no types; this declares the part of its API the edge uses (CommonJS).
declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';

  export interface UnixDgramSocket extends EventEmitter {
    bind(path: string): void;
    send(buffer: Buffer, offset: number, length: number, path: string, callback?: (err?: Error) => void): void;
    close(): void;
  }

  const unix: {
    createSocket(type: 'unix_dgram', listener?: (message: Buffer) => void): UnixDgramSocket;
  };
  export default unix;
}
