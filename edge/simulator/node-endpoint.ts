/**
 * The network side of one simulated node: a transport bound to the node's own 127.0.0.x (never
 * 0.0.0.0, which would take the controller's unicast) plus the shared group socket, multicast
 * pinned to the configured interface. Applies the timing quirks (delay, drops, silence, deafness).
 */
import type { Logger } from '../../shared/log.js';
import { deviceIdOf, nodeKeyOf } from '../echonet/device-id.js';
import { eojToHex, isNodeProfile } from '../echonet/eoj.js';
import { ESV, esvName, isRequestEsv } from '../echonet/esv.js';
import { type Frame, allProperties, detachedFrame } from '../echonet/frame.js';
import { byteHex, toHex } from '../echonet/hex.js';
import { NodeProfileEpc } from '../echonet/properties-node-profile.js';
import { type ReceivedFrame, EchonetTransport } from '../echonet/transport.js';
import { assertBindableNodeAddress } from './addresses.js';
import { type NodeQuirks, isWithin } from './quirks.js';
import type { SimulatedNode } from './simulated-node.js';

export interface EndpointOptions {
  readonly address: string;
  readonly interfaceAddress: string;
  readonly port: number;
  readonly multicastGroup?: string;
  readonly logger: Logger;
  readonly random: () => number;
  /** Milliseconds since the simulator started: the clock the timed quirks run on. */
  readonly elapsedMs: () => number;
}

/** A frame the node sent, as the journal keeps it. */
export interface SentFrame {
  readonly at: Date;
  /** The requester's address, or `multicast`. */
  readonly to: string;
  readonly frame: Frame;
}

/** A request the node received, as the journal keeps it. */
export interface ReceivedRequest {
  readonly at: Date;
  readonly from: string;
  readonly via: ReceivedFrame['via'];
  readonly frame: Frame;
}

/** Enough for a test or an installer to compare what arrived with what was sent, without growing forever. */
const JOURNAL_LIMIT = 10_000;

export class NodeEndpoint {
  private transport: EchonetTransport | undefined;
  /** What this node sent, oldest first, the last JOURNAL_LIMIT frames. */
  readonly journal: SentFrame[] = [];
  /** Requests this node received (answered or not), oldest first, the last JOURNAL_LIMIT: what a controller asked of it. */
  readonly received: ReceivedRequest[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private address_: string;
  silent: boolean;

  constructor(
    private node: SimulatedNode,
    private readonly options: EndpointOptions,
    private readonly quirks: NodeQuirks,
  ) {
    this.address_ = options.address;
    this.silent = quirks.silent ?? false;
  }

  get address(): string {
    return this.address_;
  }

  /** Binds at the node's address and announces itself, unless `announce` is false (its boot INF lost, as on Wi-Fi). */
  async open(announce = true): Promise<void> {
    assertBindableNodeAddress(this.address_);
    const transport = new EchonetTransport({
      interfaceAddress: this.address_,
      multicastInterface: this.options.interfaceAddress,
      port: this.options.port,
      ...(this.options.multicastGroup ? { multicastGroup: this.options.multicastGroup } : {}),
      logger: this.options.logger,
    });
    await transport.open();
    this.transport = transport;
    const boot = announce ? this.node.bootAnnouncement() : undefined;
    if (boot) await this.multicast([boot]);
    // Like a unit booting: it announces itself before it answers anything at its new address.
    transport.onFrame((received) => this.onFrame(received));
  }

  /**
   * Rebinds at a new address (DHCP gave the unit another lease) and announces itself again, unless
   * `announce` is false: the announcement lost on Wi-Fi, or an address change without a reboot.
   */
  async moveTo(address: string, announce = true): Promise<void> {
    assertBindableNodeAddress(address);
    await this.close();
    await this.reopenAt(address, announce);
  }

  /** Restarts as `node` (a firmware update: same identity, other objects or maps), announcing itself anew. */
  async reboot(node: SimulatedNode): Promise<void> {
    await this.close();
    this.node = node;
    await this.open();
  }

  /** Comes up at `address` after a close (a swap closes both units before either reopens). */
  async reopenAt(address: string, announce = true): Promise<void> {
    assertBindableNodeAddress(address);
    this.address_ = address;
    await this.open(announce);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const transport = this.transport;
    this.transport = undefined;
    await transport?.close();
  }

  /** Multicasts announcements, unless the node is in a silent spell; failures are logged, a simulator never crashes on a send. */
  async multicast(frames: readonly Frame[]): Promise<void> {
    const transport = this.transport;
    if (transport === undefined || frames.length === 0) return;
    if (this.inSilentSpell()) {
      this.options.logger.debug({ address: this.address_, frames: frames.length }, 'simulated node is silent, INF not sent');
      return;
    }
    for (const frame of frames) {
      await transport
        .sendMulticast(frame)
        .then(() => this.recordAnnouncement(frame))
        .catch((error: unknown) => this.options.logger.warn({ address: this.address_, err: error }, 'simulated INF not sent'));
    }
  }

  private inSilentSpell(): boolean {
    return isWithin(this.quirks.silentBetween, this.options.elapsedMs());
  }

  /** Why the node does not answer this request, or undefined if it does. */
  private reasonToIgnore(received: ReceivedFrame): string | undefined {
    if (this.silent) return 'silent';
    if (this.inSilentSpell()) return 'silent spell';
    if (received.via === 'unicast' && isWithin(this.quirks.deafBetween, this.options.elapsedMs())) return 'deaf to unicast';
    if (this.options.random() < (this.quirks.dropRequestRate ?? 0)) return 'dropped';
    if (this.ignoresAsTooBig(received.frame)) return 'Get too big, ignored without a word';
    return undefined;
  }

  private ignoresAsTooBig(frame: Frame): boolean {
    const limit = this.quirks.ignoreGetsOver;
    return limit !== undefined && frame.esv === ESV.Get && allProperties(frame).length > limit;
  }

  private onFrame(received: ReceivedFrame): void {
    if (!isRequestEsv(received.frame.esv)) return; // other nodes' announcements
    this.received.push({ at: new Date(), from: received.address, via: received.via, frame: detachedFrame(received.frame) });
    if (this.received.length > JOURNAL_LIMIT) this.received.splice(0, this.received.length - JOURNAL_LIMIT);
    const reason = this.reasonToIgnore(received);
    if (reason !== undefined) {
      this.options.logger.debug({ address: this.address_, from: received.address, tid: received.frame.tid, reason }, 'simulated node ignores request');
      return;
    }
    const replies = this.node.handle(this.asUnderstood(received));
    this.later(() => {
      void this.sendReplies(received.address, replies.unicast);
      void this.multicast(replies.multicast);
    });
    this.options.logger.debug(
      { address: this.address_, from: received.address, tid: received.frame.tid, esv: esvName(received.frame.esv), replies: replies.unicast.length },
      'simulated node answered',
    );
  }

  /** The request as the node takes it: one with `idOutOfSearchAnswers` does not hear 0x83 asked in a search. */
  private asUnderstood(received: ReceivedFrame): Frame {
    const { frame } = received;
    if (!this.quirks.idOutOfSearchAnswers || received.via === 'unicast' || frame.esv !== ESV.Get || !isNodeProfile(frame.deoj)) return frame;
    return { ...frame, properties: frame.properties.filter((p) => p.epc !== NodeProfileEpc.id) };
  }

  private async sendReplies(to: string, frames: readonly Frame[]): Promise<void> {
    const transport = this.transport;
    if (transport === undefined) return;
    for (const frame of frames) {
      // Replies go to the configured port, not the request's source port, as real devices do.
      await transport
        .send(to, frame)
        .then(() => this.record(to, frame))
        .catch((error: unknown) => this.options.logger.warn({ address: this.address_, to, err: error }, 'simulated reply not sent'));
    }
  }

  /** INFs are logged, so a soak run on the CLI can count what was announced. */
  private recordAnnouncement(frame: Frame): void {
    this.record('multicast', frame);
    if (frame.esv !== ESV.Inf) return;
    const raw = Object.fromEntries(allProperties(frame).map((p) => [byteHex(p.epc), toHex(p.edt)]));
    const deviceId = deviceIdOf(nodeKeyOf(this.node.nodeId, this.address_), frame.seoj);
    this.options.logger.debug({ deviceId, address: this.address_, eoj: eojToHex(frame.seoj), tid: frame.tid, raw }, 'simulated INF sent');
  }

  private record(to: string, frame: Frame): void {
    this.journal.push({ at: new Date(), to, frame });
    if (this.journal.length > JOURNAL_LIMIT) this.journal.splice(0, this.journal.length - JOURNAL_LIMIT);
  }

  private later(fn: () => void): void {
    const delay = this.quirks.replyDelayMs ?? 0;
    if (delay <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, delay);
    this.timers.add(timer);
  }
}
