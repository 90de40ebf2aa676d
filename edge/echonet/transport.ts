/**
 * UDP transport for ECHONET Lite: one unicast socket bound to the configured interface address, one
 * socket on the multicast group to hear announcements and searches, TID-matched request/response.
 *
 * Network rule: every socket that sends has its multicast interface set explicitly, so a multicast
 * frame can never leave through the host's default route; TTL 1 keeps it on the local link.
 * Nothing here throws on bad input from the network: malformed, late and stray frames are counted,
 * logged (within a budget) and dropped.
 */
import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { eojToHex } from './eoj.js';
import { type Esv, esvName, isResponseOnlyEsv, responseEsvsFor } from './esv.js';
import { type Frame, type FrameErrorCode, type SetGetFrame, type SingleListFrame, decodeFrame, encodeFrame } from './frame.js';
import { toHex } from './hex.js';

export const ECHONET_LITE_PORT = 3610;
export const ECHONET_LITE_MULTICAST_GROUP = '224.0.23.0';

export interface TransportOptions {
  /** Address the unicast socket binds to: the gateway's address on the devices' LAN (127.0.0.1 in tests). */
  readonly interfaceAddress: string;
  /**
   * Interface (by its address) for group membership and outgoing multicast. Defaults to
   * `interfaceAddress`; the simulator binds each node to its own 127.0.0.x but multicasts via 127.0.0.1.
   */
  readonly multicastInterface?: string;
  /** Port we bind and the port peers listen on: devices answer on 3610, not to the source port. */
  readonly port?: number;
  readonly multicastGroup?: string;
  readonly logger: Logger;
  /** At most this many malformed/stray-frame warnings per minute; the rest are only counted. */
  readonly warningsPerMinute?: number;
}

/** Which socket heard a frame: sent to our own address, or to the multicast group. */
export type Delivery = 'unicast' | 'multicast';

export interface ReceivedFrame {
  readonly frame: Frame;
  readonly address: string;
  readonly port: number;
  readonly receivedAt: Date;
  readonly via: Delivery;
}

/** How long a multicast request collects answers. */
export interface CollectWindow {
  /** At most this long after the request went out. */
  readonly windowMs: number;
  /**
   * Earlier, once this long passed without a new answer (counted from the send, then from each
   * answer): on a LAN nodes answer within milliseconds, so a quiet spell means everyone has.
   */
  readonly quietMs?: number;
}

/** A frame before the transport gives it a TID. */
export type OutgoingFrame = Omit<SingleListFrame, 'tid'> | Omit<SetGetFrame, 'tid'>;

export interface TransportCounters {
  framesSent: number;
  framesReceived: number;
  malformedFrames: number;
  malformedByCode: Partial<Record<FrameErrorCode, number>>;
  /** Our own multicast, looped back to our group socket. */
  ownFramesDropped: number;
  responsesMatched: number;
  /** Answers to a TID we had already given up on. */
  lateResponses: number;
  /** A pending TID answered from an address we did not ask. */
  responsesFromUnexpectedAddress: number;
  /** Response-type frames for no request of ours at all. */
  unmatchedResponses: number;
  requestTimeouts: number;
  sendErrors: number;
  socketErrors: number;
}

export type RequestErrorCode = 'TIMEOUT' | 'CLOSED' | 'SEND_FAILED' | 'CANCELLED';

export class EchonetRequestError extends Error {
  constructor(
    readonly code: RequestErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EchonetRequestError';
  }
}

export type FrameListener = (received: ReceivedFrame) => void;

interface PendingUnicast {
  readonly kind: 'unicast';
  readonly address: string;
  readonly expected: ReadonlySet<Esv>;
  readonly resolve: (received: ReceivedFrame) => void;
  readonly reject: (error: EchonetRequestError) => void;
  readonly timer: NodeJS.Timeout;
}

interface PendingMulticast {
  readonly kind: 'multicast';
  readonly expected: ReadonlySet<Esv>;
  readonly responses: ReceivedFrame[];
  readonly onResponse: FrameListener | undefined;
  /** Ends the collection: clears its timers and resolves with what arrived. */
  readonly finish: () => void;
  /** Restarts the quiet-spell timer, if the window has one. */
  readonly heardAnswer: () => void;
}

type Pending = PendingUnicast | PendingMulticast;

/** More answers to one search than any site has nodes: the rest is a flood and is dropped. */
const MAX_MULTICAST_RESPONSES = 1024;
/** Remembers TIDs that timed out, so a late answer is counted as late and not as a stranger's. */
const EXPIRED_TID_MEMORY = 256;
const TID_SPACE = 0x10000;

function freshCounters(): TransportCounters {
  return {
    framesSent: 0,
    framesReceived: 0,
    malformedFrames: 0,
    malformedByCode: {},
    ownFramesDropped: 0,
    responsesMatched: 0,
    lateResponses: 0,
    responsesFromUnexpectedAddress: 0,
    unmatchedResponses: 0,
    requestTimeouts: 0,
    sendErrors: 0,
    socketErrors: 0,
  };
}

/**
 * Throws unless `address` names one IPv4 interface. With 0.0.0.0 (or nothing) the kernel would pick
 * the interface for multicast from the routing table, and a search could leave by the default route.
 */
export function checkInterfaceAddress(address: string | undefined, field: string): void {
  if (address !== undefined && isIPv4(address) && address !== '0.0.0.0') return;
  throw new RangeError(
    `${field} must be this host's own IPv4 address on the devices' LAN (\`ip -4 addr\` shows it), got "${address ?? ''}": ` +
      'multicast goes out on that interface only, and with 0.0.0.0 the routing table would choose it',
  );
}

function bindSocket(socket: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind({ address, port }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** A per-minute allowance of warnings, so a flood of junk cannot flood the journal. */
class WarningBudget {
  private windowStart = 0;
  private used = 0;
  constructor(private readonly perMinute: number) {}
  allow(now: number): boolean {
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.used = 0;
    }
    this.used += 1;
    return this.used <= this.perMinute;
  }
}

/** A frame's header as log fields. */
export function frameFields(frame: Frame): Record<string, unknown> {
  return { tid: frame.tid, esv: esvName(frame.esv), seoj: eojToHex(frame.seoj), deoj: eojToHex(frame.deoj) };
}

export class EchonetTransport {
  readonly port: number;
  readonly interfaceAddress: string;
  readonly multicastInterface: string;
  readonly multicastGroup: string;
  private readonly log: Logger;
  private readonly counters_ = freshCounters();
  private readonly pending = new Map<number, Pending>();
  private readonly expired = new Map<number, string>();
  private readonly listeners = new Set<FrameListener>();
  private readonly warnings: WarningBudget;
  private unicast: dgram.Socket | undefined;
  private group: dgram.Socket | undefined;
  private nextTid: number;
  private state: 'new' | 'open' | 'closed' = 'new';

  constructor(options: TransportOptions) {
    checkInterfaceAddress(options.interfaceAddress, 'interfaceAddress');
    if (options.multicastInterface !== undefined) checkInterfaceAddress(options.multicastInterface, 'multicastInterface');
    this.interfaceAddress = options.interfaceAddress;
    this.multicastInterface = options.multicastInterface ?? options.interfaceAddress;
    this.port = options.port ?? ECHONET_LITE_PORT;
    this.multicastGroup = options.multicastGroup ?? ECHONET_LITE_MULTICAST_GROUP;
    this.log = options.logger;
    this.warnings = new WarningBudget(options.warningsPerMinute ?? 20);
    this.nextTid = Math.floor(Math.random() * TID_SPACE);
  }

  get counters(): Readonly<TransportCounters> {
    return { ...this.counters_, malformedByCode: { ...this.counters_.malformedByCode } };
  }

  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error(`transport is ${this.state}`);
    this.state = 'open';
    try {
      this.unicast = await this.openUnicastSocket();
      this.group = await this.openGroupSocket();
    } catch (error) {
      await this.close();
      throw error;
    }
    this.log.info(
      { address: this.interfaceAddress, port: this.port, multicastInterface: this.multicastInterface, group: this.multicastGroup },
      'echonet transport open',
    );
  }

  private async openUnicastSocket(): Promise<dgram.Socket> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    this.attach(socket, 'unicast');
    await bindSocket(socket, this.interfaceAddress, this.port);
    socket.setMulticastInterface(this.multicastInterface);
    socket.setMulticastTTL(1);
    // Peers on the same host (the simulator, tests) only hear us through the loopback copy.
    socket.setMulticastLoopback(true);
    return socket;
  }

  private async openGroupSocket(): Promise<dgram.Socket> {
    // Shared with every other ECHONET endpoint on this host (simulated nodes, tests): reuseAddr.
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.attach(socket, 'multicast');
    await bindSocket(socket, this.multicastGroup, this.port);
    // Always name the interface: without it Linux picks one by the routing table, and on a bare lo
    // the call fails with ENODEV.
    socket.addMembership(this.multicastGroup, this.multicastInterface);
    // This socket never sends; set anyway so a future send cannot leak onto the default route.
    socket.setMulticastInterface(this.multicastInterface);
    socket.setMulticastTTL(1);
    return socket;
  }

  private attach(socket: dgram.Socket, via: Delivery): void {
    socket.on('message', (message, remote) => this.handleDatagram(message, remote.address, remote.port, via));
    socket.on('error', (error) => {
      this.counters_.socketErrors += 1;
      this.log.error({ err: error, socket: via }, 'echonet socket error');
    });
  }

  /** Frames no request of ours was waiting for: INF, INFC, requests from other controllers. */
  onFrame(listener: FrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const [tid, pending] of this.pending) this.settleOnClose(tid, pending);
    this.pending.clear();
    this.listeners.clear();
    const sockets = [this.unicast, this.group].filter((s): s is dgram.Socket => s !== undefined);
    this.unicast = undefined;
    this.group = undefined;
    await Promise.all(sockets.map(closeSocket));
  }

  private settleOnClose(tid: number, pending: Pending): void {
    if (pending.kind === 'multicast') {
      pending.finish();
      return;
    }
    clearTimeout(pending.timer);
    pending.reject(new EchonetRequestError('CLOSED', `transport closed while TID ${tid} was pending`));
  }

  // -------------------------------------------------------------------------------------------
  // Sending

  /** The next TID not waiting for an answer; undefined only if all 65536 are. */
  private allocateTid(): number | undefined {
    for (let tries = 0; tries < TID_SPACE; tries++) {
      const tid = this.nextTid;
      this.nextTid = (this.nextTid + 1) % TID_SPACE;
      if (!this.pending.has(tid)) return tid;
    }
    return undefined;
  }

  /** Sends a frame as it is (TID included), e.g. a reply; resolves once the datagram left. */
  async send(address: string, frame: Frame): Promise<void> {
    const socket = this.unicast;
    if (this.state !== 'open' || socket === undefined) throw new EchonetRequestError('CLOSED', 'transport is not open');
    const bytes = encodeFrame(frame);
    await new Promise<void>((resolve, reject) => {
      socket.send(bytes, this.port, address, (error) => {
        if (error) {
          this.counters_.sendErrors += 1;
          reject(new EchonetRequestError('SEND_FAILED', `send to ${address}: ${error.message}`));
        } else {
          this.counters_.framesSent += 1;
          resolve();
        }
      });
    });
  }

  /** Multicasts a frame on the group (INF announcements, searches). */
  sendMulticast(frame: Frame): Promise<void> {
    return this.send(this.multicastGroup, frame);
  }

  /** Sends a request to one node and resolves with its answer (matched by TID, ESV and address). */
  request(address: string, outgoing: OutgoingFrame, timeoutMs: number): Promise<ReceivedFrame> {
    if (this.state !== 'open') return Promise.reject(new EchonetRequestError('CLOSED', 'transport is not open'));
    const tid = this.allocateTid();
    if (tid === undefined) return Promise.reject(new EchonetRequestError('SEND_FAILED', 'all 65536 TIDs are pending'));
    const frame = { ...outgoing, tid } as Frame;
    return new Promise<ReceivedFrame>((resolve, reject) => {
      const timer = setTimeout(() => this.expireUnicast(tid, address, timeoutMs), timeoutMs);
      this.pending.set(tid, { kind: 'unicast', address, expected: new Set(responseEsvsFor(frame.esv)), resolve, reject, timer });
      this.send(address, frame).catch((error: unknown) => {
        const pending = this.pending.get(tid);
        if (pending?.kind !== 'unicast') return;
        clearTimeout(pending.timer);
        this.pending.delete(tid);
        pending.reject(error instanceof EchonetRequestError ? error : new EchonetRequestError('SEND_FAILED', String(error)));
      });
    });
  }

  private expireUnicast(tid: number, address: string, timeoutMs: number): void {
    const pending = this.pending.get(tid);
    if (pending?.kind !== 'unicast') return;
    this.pending.delete(tid);
    this.rememberExpired(tid, address);
    this.counters_.requestTimeouts += 1;
    pending.reject(new EchonetRequestError('TIMEOUT', `no answer from ${address} to TID ${tid} within ${timeoutMs} ms`));
  }

  /**
   * Multicasts a request and collects every answer within `window` (searches). `onResponse` sees each
   * answer as it arrives, so callers can start talking to a node before the window closes.
   */
  multicastRequest(outgoing: OutgoingFrame, window: CollectWindow, onResponse?: FrameListener): Promise<ReceivedFrame[]> {
    if (this.state !== 'open') return Promise.reject(new EchonetRequestError('CLOSED', 'transport is not open'));
    const tid = this.allocateTid();
    if (tid === undefined) return Promise.reject(new EchonetRequestError('SEND_FAILED', 'all 65536 TIDs are pending'));
    const frame = { ...outgoing, tid } as Frame;
    return new Promise<ReceivedFrame[]>((resolve, reject) => {
      const responses: ReceivedFrame[] = [];
      const stopTimers = (): void => {
        clearTimeout(windowTimer);
        clearTimeout(quietTimer);
        this.pending.delete(tid);
      };
      const finish = (): void => {
        stopTimers();
        resolve(responses);
      };
      const windowTimer = setTimeout(finish, window.windowMs);
      const quietTimer = window.quietMs === undefined ? undefined : setTimeout(finish, window.quietMs);
      const heardAnswer = (): void => {
        quietTimer?.refresh();
      };
      this.pending.set(tid, { kind: 'multicast', expected: new Set(responseEsvsFor(frame.esv)), responses, onResponse, finish, heardAnswer });
      this.sendMulticast(frame).catch((error: unknown) => {
        stopTimers();
        reject(error instanceof EchonetRequestError ? error : new EchonetRequestError('SEND_FAILED', String(error)));
      });
    });
  }

  private rememberExpired(tid: number, address: string): void {
    this.expired.delete(tid);
    this.expired.set(tid, address);
    if (this.expired.size > EXPIRED_TID_MEMORY) {
      const oldest = this.expired.keys().next();
      if (!oldest.done) this.expired.delete(oldest.value);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  private isOwnFrame(address: string, port: number): boolean {
    return address === this.interfaceAddress && port === this.port;
  }

  private handleDatagram(message: Buffer, address: string, port: number, via: Delivery): void {
    if (this.state !== 'open') return;
    if (this.isOwnFrame(address, port)) {
      this.counters_.ownFramesDropped += 1;
      return;
    }
    this.counters_.framesReceived += 1;
    const decoded = decodeFrame(message);
    if (!decoded.ok) {
      this.countMalformed(decoded.error.code, decoded.error.message, address, message);
      return;
    }
    const received: ReceivedFrame = { frame: decoded.value, address, port, receivedAt: new Date(), via };
    if (this.deliverToPending(received)) return;
    if (isResponseOnlyEsv(received.frame.esv)) {
      this.countStrayResponse(received);
      return;
    }
    this.emit(received);
  }

  private countMalformed(code: FrameErrorCode, reason: string, address: string, message: Buffer): void {
    this.counters_.malformedFrames += 1;
    this.counters_.malformedByCode[code] = (this.counters_.malformedByCode[code] ?? 0) + 1;
    if (this.warnings.allow(Date.now())) {
      this.log.warn({ address, code, reason, bytes: toHex(message.subarray(0, 64)), length: message.length }, 'malformed echonet frame dropped');
    }
  }

  /** True when a pending request consumed the frame. */
  private deliverToPending(received: ReceivedFrame): boolean {
    const pending = this.pending.get(received.frame.tid);
    if (pending === undefined || !pending.expected.has(received.frame.esv)) return false;
    if (pending.kind === 'multicast') {
      if (pending.responses.length >= MAX_MULTICAST_RESPONSES) return true;
      this.counters_.responsesMatched += 1;
      pending.responses.push(received);
      pending.heardAnswer();
      this.safely(() => pending.onResponse?.(received));
      return true;
    }
    if (pending.address !== received.address) {
      this.counters_.responsesFromUnexpectedAddress += 1;
      this.warnStray('echonet response from an unexpected address dropped', received, { expectedAddress: pending.address });
      return true;
    }
    clearTimeout(pending.timer);
    this.pending.delete(received.frame.tid);
    this.counters_.responsesMatched += 1;
    pending.resolve(received);
    return true;
  }

  private countStrayResponse(received: ReceivedFrame): void {
    const late = this.expired.get(received.frame.tid) === received.address;
    if (late) {
      this.counters_.lateResponses += 1;
      this.log.debug({ address: received.address, ...frameFields(received.frame) }, 'late echonet response dropped');
      return;
    }
    this.counters_.unmatchedResponses += 1;
    this.warnStray('echonet response for no request of ours dropped', received, {});
  }

  private warnStray(message: string, received: ReceivedFrame, extra: Record<string, unknown>): void {
    if (this.warnings.allow(Date.now())) this.log.warn({ address: received.address, ...frameFields(received.frame), ...extra }, message);
  }

  private emit(received: ReceivedFrame): void {
    for (const listener of this.listeners) this.safely(() => listener(received));
  }

  /** A listener's bug must not take the socket's message loop down with it. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.log.error({ err: error }, 'echonet frame listener threw');
    }
  }
}
