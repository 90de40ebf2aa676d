/**
 * The `echonet-lite` npm package (an independent ECHONET Lite implementation, CommonJS, one
 * process-wide singleton) typed just as far as the interoperability runners use it, plus helpers
 * they share. Only for runners that run inside a test's own network namespace: the package binds
 * 0.0.0.0:3610, so it must never run in the root namespace.
 */
import type dgram from 'node:dgram';
import { createRequire } from 'node:module';

export interface ElRemote {
  readonly address: string;
  readonly port: number;
}

/** A frame as the package parses it: hex strings throughout, properties keyed by EPC. */
export interface ElFrame {
  readonly EHD: string;
  readonly TID: string;
  readonly SEOJ: string;
  DEOJ: string;
  readonly ESV: string;
  readonly OPC: string;
  readonly DETAIL: string;
  /** EPC hex → EDT hex ('' for PDC 0). Property maps of 16 EPCs and more are rewritten into the list form. */
  readonly DETAILs: Readonly<Record<string, string>>;
}

/** EOJ hex → EPC hex → EDT bytes, what `replyGetDetail` / `replySetDetail` answer from. */
export type ElDeviceDetails = Record<string, Record<string, number[]>>;

export interface ElOptions {
  /** The namespace address: the send sockets bind it and multicast leaves through it. */
  readonly v4: string;
  readonly v6?: string;
  readonly ignoreMe: boolean;
  readonly autoGetProperties: boolean;
  readonly autoGetDelay: number;
  readonly debugMode: boolean;
}

export interface EchonetLite {
  readonly GET: string;
  readonly SETI: string;
  readonly SETC: string;
  readonly INF: string;
  readonly INF_REQ: string;
  readonly EL_Multi: string;
  readonly Node_details: Record<string, number[]>;
  readonly facilities: Record<string, Record<string, Record<string, string>>>;
  sock4: dgram.Socket | null;
  initialize(objList: string[], userfunc: (rinfo: ElRemote, els: ElFrame | undefined, error?: unknown) => void, ipVer: 4, options: ElOptions): Promise<dgram.Socket>;
  replyGetDetail(rinfo: ElRemote, els: ElFrame, details: ElDeviceDetails): Promise<void>;
  replySetDetail(rinfo: ElRemote, els: ElFrame, details: ElDeviceDetails): Promise<unknown>;
  sendOPC1(ip: string, seoj: string, deoj: string, esv: string, epc: string, edt: string): number[];
  sendDetails(ip: string, seoj: string, deoj: string, esv: string, details: Array<Record<string, string>>): Promise<number[]>;
  search(): void;
  release(): void;
  /** Decodes a 17-byte bitmap property map into `[count, ...epcs]`. */
  parseMapForm2(bitmap: number[]): number[];
}

export function loadEchonetLite(): EchonetLite {
  const require = createRequire(import.meta.url);
  return require('echonet-lite') as EchonetLite;
}

/** `initialize` returns before its socket is bound (it binds with a callback); wait for that. */
export async function listening(socket: dgram.Socket): Promise<void> {
  try {
    socket.address();
    return;
  } catch {
    // not bound yet
  }
  await new Promise<void>((resolve, reject) => {
    socket.once('listening', () => resolve());
    socket.once('error', reject);
  });
  // The package joins the multicast group in its own 'listening' callback; let that run first.
  await new Promise((resolve) => setImmediate(resolve));
}

export function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function hexToBytes(hex: string): number[] {
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error(`not hex: ${hex}`);
  return (hex.match(/../g) ?? []).map((byte) => parseInt(byte, 16));
}

export function bytesToHex(bytes: readonly number[]): string {
  return bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * A property map (0x9D/0x9E/0x9F) as the APPENDIX (Annex 1) defines it, written here from the
 * specification: count, then the EPCs while fewer than 16, else a 16-byte bitmap in which byte n
 * (1–16), bit b stands for EPC 0x80 + 0x10·b + (n − 1).
 */
export function encodeMap(epcs: readonly number[]): number[] {
  const unique = [...new Set(epcs)].sort((a, b) => a - b);
  if (unique.some((epc) => epc < 0x80 || epc > 0xff)) throw new RangeError(`EPCs of a property map are 0x80–0xFF: ${unique.join(',')}`);
  if (unique.length < 16) return [unique.length, ...unique];
  const bitmap = new Array<number>(16).fill(0);
  for (const epc of unique) bitmap[epc & 0x0f] = (bitmap[epc & 0x0f] as number) | (1 << ((epc - 0x80) >> 4));
  return [unique.length, ...bitmap];
}

/** Writes every stdin line, parsed, to `handle`; non-JSON lines are reported, not thrown. */
export function onStdinCommands(handle: (command: Record<string, unknown>) => void | Promise<void>): void {
  let pending = '';
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        void Promise.resolve(handle(JSON.parse(line) as Record<string, unknown>)).catch((error: unknown) => print({ type: 'error', message: String(error) }));
      } catch (error) {
        print({ type: 'error', message: `bad command ${line}: ${String(error)}` });
      }
    }
  });
}
