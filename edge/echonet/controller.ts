/**
 * The ECHONET Lite controller of the edge gateway: finds air conditioners, learns who they are,
 * polls them, listens to their announcements and emits `Observation`s. It knows nothing of storage
 * or uplink — whoever listens to `observation` numbers and keeps the readings.
 *
 *   transport ── discovery (search, describe nodes/objects) ── registry (who is where)
 *            └── node channels (one request in flight per node, retries) ── poller (periodic Gets)
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../shared/log.js';
import type { Observation, PropertyValue } from '../../shared/reading.js';
import { type NodeKey, deviceIdOf, nodeKeyOf, sameNode } from './device-id.js';
import { type NodeDescription, Discovery } from './discovery.js';
import { type Eoj, CONTROLLER_EOJ, eojToHex, isHomeAirConditioner, isNodeProfile, parseEojHex } from './eoj.js';
import { ESV } from './esv.js';
import { type Frame, type Property, type SingleListFrame, allProperties, isSetGetFrame } from './frame.js';
import { byteHex } from './hex.js';
import { type RetryPolicy, DEFAULT_RETRY_POLICY, NodeChannel } from './node-channel.js';
import { buildObservation } from './observation.js';
import { AIRCON_POLL_EPCS, type PollResult, Poller, pollPlan } from './poller.js';
import { codecFor, encodeByName } from './properties.js';
import { type DeviceRecord, type DeviceRegistry, InMemoryDeviceRegistry, UNKNOWN_MAPS } from './registry.js';
import { type ReceivedFrame, type TransportCounters, ECHONET_LITE_MULTICAST_GROUP, ECHONET_LITE_PORT, EchonetTransport } from './transport.js';

export interface EchonetControllerOptions {
  /** Address of the gateway on the devices' network; multicast goes out on this interface only. Required. */
  readonly interfaceAddress: string;
  readonly port?: number;
  readonly multicastGroup?: string;
  /** Multicast search every … (also runs at start). Default 60 s. */
  readonly searchIntervalMs?: number;
  /** How long a search collects answers. Default 3 s. */
  readonly searchWindowMs?: number;
  /** Default 30 s. */
  readonly pollIntervalMs?: number;
  /** Per attempt. Default 2 s. */
  readonly requestTimeoutMs?: number;
  /** Retries after a timeout. Default 2. */
  readonly maxRetries?: number;
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  /** EPCs per Get at most; devices that take fewer are detected. Default 10. */
  readonly maxBatchSize?: number;
  /** Consecutive failed poll cycles before a device counts as unavailable. Default 2. */
  readonly unavailableAfterFailures?: number;
  readonly registry?: DeviceRegistry;
  readonly logger: Logger;
  /** For jitter; tests may pin it. */
  readonly random?: () => number;
}

export type DeviceEvent =
  | { readonly type: 'discovered'; readonly device: DeviceRecord }
  | { readonly type: 'moved'; readonly device: DeviceRecord; readonly from: string }
  | { readonly type: 'available' | 'unavailable'; readonly device: DeviceRecord };

export interface EchonetControllerEvents {
  observation: [Observation];
  device: [DeviceEvent];
}

export interface ControllerCounters {
  readonly transport: Readonly<TransportCounters>;
  readonly observations: number;
  readonly searches: number;
  /** INFs from objects we could not attribute (yet), dropped after the queue filled or the node was described. */
  readonly unattributedInfs: number;
}

export type SetOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'UNKNOWN_DEVICE' | 'INVALID_VALUE' | 'REJECTED' | 'NO_ANSWER'; readonly message: string };

interface NodeState {
  readonly address: string;
  /** Who answers at this address, once described. */
  key: NodeKey | undefined;
  describedAt: number;
  describing: Promise<void> | undefined;
  /** INFs that arrived before we knew which device sent them. */
  readonly waitingInfs: ReceivedFrame[];
}

const MAX_WAITING_INFS = 16;
/** Addresses we keep state for. Far above any site; stops spoofed sources from growing our tables. */
const MAX_TRACKED_NODES = 1024;

interface ResolvedSettings {
  readonly searchIntervalMs: number;
  readonly searchWindowMs: number;
  readonly pollIntervalMs: number;
  readonly maxBatchSize: number;
  readonly unavailableAfterFailures: number;
  readonly retry: RetryPolicy;
}

function resolveSettings(options: EchonetControllerOptions): ResolvedSettings {
  const settings: ResolvedSettings = {
    searchIntervalMs: options.searchIntervalMs ?? 60_000,
    searchWindowMs: options.searchWindowMs ?? 3_000,
    pollIntervalMs: options.pollIntervalMs ?? 30_000,
    maxBatchSize: options.maxBatchSize ?? 10,
    unavailableAfterFailures: options.unavailableAfterFailures ?? 2,
    retry: {
      timeoutMs: options.requestTimeoutMs ?? DEFAULT_RETRY_POLICY.timeoutMs,
      maxRetries: options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries,
      baseDelayMs: options.retryBaseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
      maxDelayMs: options.retryMaxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
    },
  };
  const positive = ['searchIntervalMs', 'searchWindowMs', 'pollIntervalMs', 'maxBatchSize', 'unavailableAfterFailures'] as const;
  for (const name of positive) {
    if (!(settings[name] > 0)) throw new RangeError(`${name} must be positive, got ${settings[name]}`);
  }
  if (settings.maxBatchSize > 255) throw new RangeError('maxBatchSize is at most 255 (OPC is one byte)');
  return settings;
}

export class EchonetController extends EventEmitter<EchonetControllerEvents> {
  readonly registry: DeviceRegistry;
  private readonly settings: ResolvedSettings;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly transport: EchonetTransport;
  private readonly discovery: Discovery;
  private readonly poller: Poller;
  private readonly channels = new Map<string, NodeChannel>();
  private readonly nodes = new Map<string, NodeState>();
  private readonly failures = new Map<string, number>();
  private readonly warnedInvalid = new Set<string>();
  private searchTimer: NodeJS.Timeout | undefined;
  private searching: Promise<unknown> | undefined;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private stats = { observations: 0, searches: 0, unattributedInfs: 0 };

  constructor(options: EchonetControllerOptions) {
    super();
    this.settings = resolveSettings(options);
    this.log = options.logger;
    this.random = options.random ?? Math.random;
    this.registry = options.registry ?? new InMemoryDeviceRegistry();
    this.transport = new EchonetTransport({
      interfaceAddress: options.interfaceAddress,
      port: options.port ?? ECHONET_LITE_PORT,
      multicastGroup: options.multicastGroup ?? ECHONET_LITE_MULTICAST_GROUP,
      logger: this.log,
    });
    this.discovery = new Discovery(this.transport, (address) => this.channelFor(address), this.log);
    this.poller = new Poller(
      {
        addressOf: (deviceId) => this.pollAddressOf(deviceId),
        channelFor: (address) => this.channelFor(address),
        onValues: (result) => this.handlePollValues(result),
        onSuccess: (deviceId, at) => this.markAnswered(deviceId, at),
        onFailure: (deviceId, error) => this.markFailed(deviceId, error),
      },
      { intervalMs: this.settings.pollIntervalMs, maxBatchSize: this.settings.maxBatchSize },
      this.log,
    );
  }

  /** Binds the sockets and starts searching; rejects if the port cannot be bound. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`controller is ${this.state}`);
    this.state = 'running';
    this.transport.onFrame((received) => this.handleUnsolicited(received));
    await this.transport.open();
    this.runSearchLoop();
  }

  /** Clears timers, rejects what is pending, closes sockets. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.searchTimer);
    for (const channel of this.channels.values()) channel.close();
    await this.transport.close();
    const describing = [...this.nodes.values()].map((n) => n.describing).filter((p) => p !== undefined);
    await Promise.allSettled([this.poller.stop(), this.searching, ...describing]);
    this.channels.clear();
    this.log.info('echonet controller stopped');
  }

  devices(): DeviceRecord[] {
    return this.registry.list();
  }

  counters(): ControllerCounters {
    return { transport: this.transport.counters, ...this.stats };
  }

  /** Runs a search now (in addition to the periodic ones); resolves with the number of nodes that answered. */
  async searchNow(): Promise<number> {
    if (this.state !== 'running') return 0;
    this.stats.searches += 1;
    const nodes = await this.discovery.search(this.settings.searchWindowMs, (address, instances) => {
      this.log.debug({ address, instances: instances?.map(eojToHex) }, 'echonet node answered search');
      this.ensureNodeDescribed(address, false);
    });
    return nodes;
  }

  /** SetC of named properties (e.g. `{ targetTemperature: 26 }`) on a device, then polls it soon. */
  async setProperties(deviceId: string, values: Readonly<Record<string, PropertyValue>>): Promise<SetOutcome> {
    const device = this.registry.get(deviceId);
    const eoj = device === undefined ? undefined : parseEojHex(device.eoj);
    if (device === undefined || eoj === undefined) return { ok: false, reason: 'UNKNOWN_DEVICE', message: `no device ${deviceId}` };
    const properties: Property[] = [];
    for (const [name, value] of Object.entries(values)) {
      const encoded = encodeByName(eoj, name, value);
      if (!encoded.ok) return { ok: false, reason: 'INVALID_VALUE', message: encoded.error.message };
      properties.push(encoded.value);
    }
    try {
      const received = await this.channelFor(device.address).setC(eoj, properties);
      this.poller.pollSoon(deviceId);
      if (received.frame.esv === ESV.SetRes) return { ok: true };
      const refused = allProperties(received.frame).filter((p) => p.edt.length > 0).map((p) => codecFor(eoj, p.epc)?.name ?? byteHex(p.epc));
      return { ok: false, reason: 'REJECTED', message: `device refused ${refused.join(', ')}` };
    } catch (error) {
      return { ok: false, reason: 'NO_ANSWER', message: error instanceof Error ? error.message : String(error) };
    }
  }

  // -------------------------------------------------------------------------------------------
  // Searching and describing nodes

  private runSearchLoop(): void {
    if (this.state !== 'running') return;
    this.searching = this.searchNow()
      .catch((error: unknown) => this.log.warn({ err: error }, 'echonet search failed'))
      .finally(() => {
        if (this.state === 'running') this.searchTimer = setTimeout(() => this.runSearchLoop(), this.settings.searchIntervalMs);
      });
  }

  private channelFor(address: string): NodeChannel {
    let channel = this.channels.get(address);
    if (channel === undefined) {
      channel = new NodeChannel(address, this.transport, this.settings.retry, this.log, this.random);
      this.channels.set(address, channel);
    }
    return channel;
  }

  /** The state kept for an address; undefined once the table is full (the frame is then ignored). */
  private nodeAt(address: string): NodeState | undefined {
    let node = this.nodes.get(address);
    if (node === undefined) {
      if (this.nodes.size >= MAX_TRACKED_NODES) {
        this.log.warn({ address, tracked: this.nodes.size }, 'too many echonet addresses, ignoring a new one');
        return undefined;
      }
      node = { address, key: undefined, describedAt: 0, describing: undefined, waitingInfs: [] };
      this.nodes.set(address, node);
    }
    return node;
  }

  /**
   * Describes the node at `address` unless that is under way or was done lately. Searches re-describe
   * each node once per search round, which is how we notice a different node taking over an address.
   */
  private ensureNodeDescribed(address: string, force: boolean): void {
    if (this.state !== 'running') return;
    const node = this.nodeAt(address);
    if (node === undefined || node.describing) return;
    const fresh = node.key !== undefined && Date.now() - node.describedAt < this.settings.searchIntervalMs / 2;
    if (fresh && !force) return;
    node.describing = this.describeNode(node)
      .catch((error: unknown) => {
        if (this.state === 'running') this.log.warn({ address, err: error }, 'echonet node could not be described');
      })
      .finally(() => (node.describing = undefined));
  }

  private async describeNode(node: NodeState): Promise<void> {
    const described = await this.discovery.describeNode(node.address);
    // A node does not lose its identification number: an answer without 0x83 (a Get_SNA under load)
    // from an address whose node we know keeps the known id, rather than forking an address-keyed twin.
    const description = described.nodeId === null && node.key?.kind === 'id' ? { ...described, nodeId: node.key.id } : described;
    const key = await this.checkedNodeKey(description);
    if (this.state !== 'running') return;
    if (node.key !== undefined && !sameNode(node.key, key)) {
      this.log.warn({ address: node.address, before: describeKey(node.key), now: describeKey(key) }, 'a different echonet node answers at this address');
    }
    node.key = key;
    node.describedAt = Date.now();
    for (const eoj of description.instances.filter(isHomeAirConditioner)) {
      await this.registerObject(node, key, description, eoj);
    }
    this.replayWaitingInfs(node);
  }

  /**
   * The node's key, guarding against two nodes claiming one identification number (seen with
   * software nodes that derive it from a MAC they do not have): if the other address still answers
   * with the same number, this node falls back to address-based ids instead of stealing the devices.
   */
  private async checkedNodeKey(description: NodeDescription): Promise<NodeKey> {
    const key = nodeKeyOf(description.nodeId, description.address);
    if (key.kind !== 'id') return key;
    const other = [...this.nodes.values()].find((n) => n.address !== description.address && n.key !== undefined && sameNode(n.key, key));
    if (other === undefined) return key;
    const idThere = await this.discovery.nodeIdAt(other.address).catch(() => undefined);
    if (idThere === key.id) {
      this.log.warn({ address: description.address, otherAddress: other.address, nodeId: key.id }, 'two echonet nodes share one identification number; using address-based ids');
      return nodeKeyOf(null, description.address);
    }
    other.key = undefined; // the node left that address
    return key;
  }

  private async registerObject(node: NodeState, key: NodeKey, description: NodeDescription, eoj: Eoj): Promise<void> {
    const deviceId = deviceIdOf(key, eoj);
    const known = this.registry.get(deviceId);
    const objectInfo =
      known !== undefined && known.maps.get !== null
        ? undefined
        : await this.discovery.describeObject(node.address, eoj).catch((error: unknown) => {
            this.log.warn({ deviceId, address: node.address, eoj: eojToHex(eoj), err: error }, 'echonet property maps unavailable, polling without them');
            return undefined;
          });
    if (this.state !== 'running') return;
    const outcome = this.registry.upsert(
      {
        deviceId,
        node: key,
        eoj: eojToHex(eoj),
        address: node.address,
        manufacturer: objectInfo?.manufacturer ?? known?.manufacturer ?? description.manufacturer,
        maps: objectInfo?.maps ?? UNKNOWN_MAPS,
      },
      new Date(),
    );
    const fields = { deviceId, address: node.address, eoj: eojToHex(eoj) };
    if (outcome.kind === 'added') {
      this.log.info({ ...fields, manufacturer: outcome.device.manufacturer }, 'echonet device discovered');
      this.emit('device', { type: 'discovered', device: outcome.device });
    } else if (outcome.kind === 'moved') {
      this.log.info({ ...fields, from: outcome.from }, 'echonet device moved to a new address');
      this.emit('device', { type: 'moved', device: outcome.device, from: outcome.from });
    }
    this.poller.add({ deviceId, eoj, epcs: pollPlan(AIRCON_POLL_EPCS, outcome.device.maps.get) });
    if (outcome.kind === 'moved') this.poller.pollSoon(deviceId);
  }

  // -------------------------------------------------------------------------------------------
  // Polling

  /** Polls go to the device's address only while the node there is still the device's node. */
  private pollAddressOf(deviceId: string): string | undefined {
    const device = this.registry.get(deviceId);
    if (device === undefined) return undefined;
    const node = this.nodes.get(device.address);
    if (node?.key !== undefined && !sameNode(node.key, device.node)) return undefined;
    return device.address;
  }

  private handlePollValues(result: PollResult): void {
    this.emitObservation({ deviceId: result.target.deviceId, eoj: result.target.eoj, address: result.address }, 'poll', result.properties, result.receivedAt);
  }

  private markAnswered(deviceId: string, at: Date): void {
    this.failures.delete(deviceId);
    if (this.registry.setAvailability(deviceId, true, at)) this.announceAvailability(deviceId, 'available');
  }

  private markFailed(deviceId: string, error: unknown): void {
    const failures = (this.failures.get(deviceId) ?? 0) + 1;
    this.failures.set(deviceId, failures);
    const device = this.registry.get(deviceId);
    this.log.debug({ deviceId, address: device?.address, eoj: device?.eoj, failures, err: error }, 'echonet poll failed');
    if (failures >= this.settings.unavailableAfterFailures && this.registry.setAvailability(deviceId, false, new Date())) {
      this.announceAvailability(deviceId, 'unavailable');
    }
  }

  private announceAvailability(deviceId: string, type: 'available' | 'unavailable'): void {
    const device = this.registry.get(deviceId);
    if (device === undefined) return;
    const fields = { deviceId, address: device.address, eoj: device.eoj };
    if (type === 'available') this.log.info(fields, 'echonet device answers again');
    else this.log.warn(fields, 'echonet device stopped answering');
    this.emit('device', { type, device });
  }

  // -------------------------------------------------------------------------------------------
  // Announcements (INF, INFC) and anything else sent to us

  private handleUnsolicited(received: ReceivedFrame): void {
    const { frame } = received;
    if (frame.esv === ESV.Infc && !isSetGetFrame(frame)) void this.acknowledgeInfc(received.address, frame);
    if (frame.esv !== ESV.Inf && frame.esv !== ESV.Infc) {
      // Requests from other controllers: we are a client only (see report); nothing to answer.
      this.log.debug({ address: received.address, tid: frame.tid, esv: frame.esv, seoj: eojToHex(frame.seoj) }, 'echonet request to us ignored');
      return;
    }
    if (isNodeProfile(frame.seoj)) {
      // 0xD5 at boot or on change of the instance list: (re)describe now, it may have moved or grown.
      this.ensureNodeDescribed(received.address, true);
      return;
    }
    this.attributeNotification(received);
  }

  private async acknowledgeInfc(address: string, infc: SingleListFrame): Promise<void> {
    const response: Frame = {
      tid: infc.tid,
      seoj: CONTROLLER_EOJ,
      deoj: infc.seoj,
      esv: ESV.InfcRes,
      properties: infc.properties.map(({ epc }) => ({ epc, edt: new Uint8Array(0) })),
    };
    try {
      await this.transport.send(address, response);
    } catch (error) {
      this.log.warn({ address, tid: infc.tid, eoj: eojToHex(infc.seoj), err: error }, 'INFC_Res could not be sent');
    }
  }

  private attributeNotification(received: ReceivedFrame): void {
    const node = this.nodeAt(received.address);
    if (node === undefined) return;
    const device = this.registry.findByEndpoint(received.address, eojToHex(received.frame.seoj));
    if (device !== undefined && node.key !== undefined && sameNode(node.key, device.node)) {
      this.emitObservation({ deviceId: device.deviceId, eoj: received.frame.seoj, address: received.address }, 'inf', allProperties(received.frame), received.receivedAt);
      return;
    }
    // Not attributable yet: keep it until the node is described (bounded), then try again.
    if (node.waitingInfs.length >= MAX_WAITING_INFS) {
      node.waitingInfs.shift();
      this.stats.unattributedInfs += 1;
    }
    node.waitingInfs.push(received);
    this.ensureNodeDescribed(received.address, false);
  }

  private replayWaitingInfs(node: NodeState): void {
    const waiting = node.waitingInfs.splice(0);
    for (const received of waiting) {
      const device = this.registry.findByEndpoint(received.address, eojToHex(received.frame.seoj));
      if (device === undefined) {
        this.stats.unattributedInfs += 1;
        continue;
      }
      this.emitObservation({ deviceId: device.deviceId, eoj: received.frame.seoj, address: received.address }, 'inf', allProperties(received.frame), received.receivedAt);
    }
  }

  private emitObservation(source: { deviceId: string; eoj: Eoj; address: string }, kind: 'poll' | 'inf', properties: readonly Property[], receivedAt: Date): void {
    const built = buildObservation(source, kind, properties, receivedAt);
    if (built === undefined) return;
    this.warnAboutInvalid(source, built.invalid);
    this.registry.recordObservation(built.observation);
    this.stats.observations += 1;
    this.log.debug({ deviceId: source.deviceId, address: source.address, eoj: built.observation.eoj, kind, properties: built.observation.properties }, 'echonet observation');
    this.emit('observation', built.observation);
  }

  /** Once per device and EPC: a device that always sends a strange value should not fill the journal. */
  private warnAboutInvalid(source: { deviceId: string; address: string; eoj: Eoj }, invalid: ReadonlyArray<{ epc: number; reason: string }>): void {
    for (const { epc, reason } of invalid) {
      const key = `${source.deviceId}/${epc}`;
      if (this.warnedInvalid.has(key)) continue;
      this.warnedInvalid.add(key);
      this.log.warn({ deviceId: source.deviceId, address: source.address, eoj: eojToHex(source.eoj), epc: byteHex(epc), reason }, 'echonet property value not understood, kept raw');
    }
  }
}

function describeKey(key: NodeKey): string {
  return key.kind === 'id' ? key.id : `address ${key.address}`;
}
