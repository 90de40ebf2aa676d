/**
 * The ECHONET Lite controller of the edge gateway: finds the devices on the LAN (air conditioners
 * first, every other class recorded too), learns who they are, polls them, listens to their
 * announcements and emits `Observation`s. It knows nothing of storage or uplink — whoever listens to
 * `observation` numbers and keeps the readings.
 *
 *   transport ── discovery (multicast search + unicast probes of static addresses, describe nodes/objects) ── registry
 *            ├── node table (which node answers at which address; requests bound to it, see node-table.ts)
 *            ├── node channels (one request in flight per node, frames paced, retries) ── poller (periodic Gets, staggered phases, backoff; one cycle: poll-cycle.ts)
 *            ├── availability (online / unreachable / offline, see availability.ts)
 *            └── own node (answers Gets of the gateway's own node profile and controller object)
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../shared/log.js';
import type { Observation, PropertyValue } from '../../shared/reading.js';
import { type Availability, type AvailabilityChange, AvailabilityTracker } from './availability.js';
import { type NodeKey, deviceIdOf, nodeKeyOf, sameNode } from './device-id.js';
import { type NodeDescription, type SearchAnswer, Discovery } from './discovery.js';
import { type EchonetControllerOptions, type ResolvedSettings, resolveSettings, searchDelay } from './controller-settings.js';
import { type Eoj, CONTROLLER_EOJ, eojToHex, isHomeAirConditioner, isNodeProfile, isReadObject, parseEojHex } from './eoj.js';
import { ESV, isRequestEsv } from './esv.js';
import { type Frame, type Property, type SingleListFrame, allProperties, detachedFrame } from './frame.js';
import { byteHex } from './hex.js';
import { NodeChannel } from './node-channel.js';
import { type Binding, type NodeEntry, NodeTable } from './node-table.js';
import { buildObservation } from './observation.js';
import { type OwnNode, EXPERIMENTAL_MAKER_CODE, createOwnNode, derivedIdentificationNumber } from './own-node.js';
import { type DevicePollView, type LearnedLimits, type PollResult, Poller, pollPlanFor } from './poller.js';
import { NodeProfileEpc } from './properties-node-profile.js';
import { codecByName, codecFor, decodeProperties, encodeByName } from './properties.js';
import { type DeviceIdentity, type DeviceRecord, type DeviceRegistry, type PropertyMaps, InMemoryDeviceRegistry, UNKNOWN_MAPS, sameMaps } from './registry.js';
import { Stagger } from './stagger.js';
import {
  type ReceivedFrame,
  type TransportCounters,
  ECHONET_LITE_MULTICAST_GROUP,
  ECHONET_LITE_PORT,
  EchonetRequestError,
  EchonetTransport,
  frameFields,
} from './transport.js';

export type { Availability } from './availability.js';
export type { EchonetControllerOptions } from './controller-settings.js';

/** A device an earlier run knew, with what it learned of it: listed at once, polled without being described again. */
export interface KnownDevice {
  readonly identity: DeviceIdentity;
  readonly learned?: LearnedLimits;
}

export type DeviceEvent =
  | { readonly type: 'discovered'; readonly device: DeviceRecord }
  | { readonly type: 'moved'; readonly device: DeviceRecord; readonly from: string }
  /** `device.availability` is the new state. */
  | { readonly type: 'availability'; readonly device: DeviceRecord; readonly from: Availability }
  /** The device's node announced itself anew and its property maps (so what is polled) changed. */
  | { readonly type: 'propertyMapChanged'; readonly device: DeviceRecord; readonly before: PropertyMaps };

export interface EchonetControllerEvents {
  observation: [Observation];
  device: [DeviceEvent];
}

export interface ControllerCounters {
  readonly transport: Readonly<TransportCounters>;
  readonly observations: number;
  readonly searches: number;
  /**
   * INFs from objects we could not attribute, dropped: their queue or the address table was full,
   * their address was forgotten, or their node was described without them.
   */
  readonly unattributedInfs: number;
  /** Requests to our own node profile or controller object that we answered. */
  readonly requestsAnswered: number;
  /** Bugs caught in work nobody waits for (answering requests, INFC_Res), each logged at error level. */
  readonly internalErrors: number;
  /** Answers (to polls, Gets and Sets) dropped because their address had gone to another node by the time they came (a move). */
  readonly foreignAnswersDropped: number;
}

export type SetOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'UNKNOWN_DEVICE' | 'INVALID_VALUE' | 'REJECTED' | 'NO_ANSWER'; readonly message: string };

export type ReadOutcome =
  | { readonly ok: true; readonly values: Record<string, PropertyValue> }
  | { readonly ok: false; readonly reason: 'UNKNOWN_DEVICE' | 'UNKNOWN_PROPERTY' | 'NO_ANSWER'; readonly message: string };

/** INFs kept per address until its node is described: a unit's burst at boot fits, a flood does not. */
const MAX_WAITING_INFS = 16;
const MAX_WAITING_INF_BYTES = 4_096;
/**
 * First frames to nodes we have not talked to yet at least this far apart, and at most half a second
 * off: a search answered by a whole site is described in turn, not in one burst.
 */
export const NEW_NODE_STEP_MS = 5;
const NEW_NODE_WINDOW_MS = 500;
function ownNodeFor(options: EchonetControllerOptions): OwnNode {
  const makerCode = (options.manufacturerCode ?? EXPERIMENTAL_MAKER_CODE).toLowerCase();
  const port = options.port ?? ECHONET_LITE_PORT;
  const nodeId = options.identificationNumber?.toLowerCase() ?? derivedIdentificationNumber(makerCode, `${options.interfaceAddress}:${port}`);
  return createOwnNode({ nodeId, makerCode });
}

export class EchonetController extends EventEmitter<EchonetControllerEvents> {
  readonly registry: DeviceRegistry;
  private readonly settings: ResolvedSettings;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly transport: EchonetTransport;
  private readonly discovery: Discovery;
  private readonly poller: Poller;
  private readonly ownNode: OwnNode;
  private readonly availability: AvailabilityTracker;
  private readonly channels = new Map<string, NodeChannel>();
  private readonly newNodes = new Stagger(NEW_NODE_STEP_MS, NEW_NODE_WINDOW_MS);
  private readonly nodes = new NodeTable();
  private readonly warnedInvalid = new Set<string>();
  private readonly knownAtStart: readonly KnownDevice[];
  private searchTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private searching: Promise<unknown> | undefined;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private stats = { observations: 0, searches: 0, unattributedInfs: 0, requestsAnswered: 0, internalErrors: 0, foreignAnswersDropped: 0 };
  /** Addresses whose presumed node is being asked for its id right now (one question at a time each). */
  private readonly confirming = new Set<string>();

  constructor(options: EchonetControllerOptions & { readonly knownDevices?: readonly KnownDevice[] }) {
    super();
    this.settings = resolveSettings(options);
    this.log = options.logger;
    this.random = options.random ?? Math.random;
    this.registry = options.registry ?? new InMemoryDeviceRegistry();
    this.knownAtStart = options.knownDevices ?? [];
    this.ownNode = ownNodeFor(options);
    this.availability = new AvailabilityTracker(this.settings.unavailableAfterFailures);
    this.transport = new EchonetTransport({
      interfaceAddress: options.interfaceAddress,
      port: options.port ?? ECHONET_LITE_PORT,
      multicastGroup: options.multicastGroup ?? ECHONET_LITE_MULTICAST_GROUP,
      logger: this.log,
    });
    this.discovery = new Discovery(this.transport, (address) => this.channelFor(address), this.log);
    this.poller = new Poller(
      {
        bindingOf: (deviceId) => this.bindingOf(deviceId),
        isBound: (binding) => this.nodes.isBound(binding),
        channelFor: (address) => this.channelFor(address),
        onValues: (result) => this.handlePollValues(result),
        onSuccess: (deviceId, at) => this.applyAvailability(this.availability.answered(deviceId, at)),
        onFailure: (deviceId, error) => this.markFailed(deviceId, error),
      },
      { maxBatchSize: this.settings.maxBatchSize },
      this.log,
    );
  }

  /** Binds the sockets, announces the gateway and starts searching; rejects if the port cannot be bound. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`controller is ${this.state}`);
    this.state = 'running';
    this.transport.onFrame((received) => this.handleUnsolicited(received));
    await this.transport.open();
    this.restoreKnownDevices();
    if (this.settings.announceAtStart) await this.announceOwnInstances();
    if (this.state !== 'running') return; // stopped while starting
    // One sweep for all devices: time alone only ever turns unreachable into offline.
    this.sweepTimer = setInterval(() => this.sweepAvailability(), this.settings.pollIntervalMs);
    this.runSearchLoop();
  }

  /** Clears timers, rejects what is pending, closes sockets. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.searchTimer);
    clearInterval(this.sweepTimer);
    for (const channel of this.channels.values()) channel.close();
    await this.transport.close();
    const describing = this.nodes
      .all()
      .map((n) => n.describing)
      .filter((p) => p !== undefined);
    await Promise.allSettled([this.poller.stop(), this.searching, ...describing]);
    this.channels.clear();
    this.log.info('echonet controller stopped');
  }

  /** Whether start() was called: before it the controller knows no device, not even those of the last run. */
  get started(): boolean {
    return this.state !== 'new';
  }

  /** Every device object found, of any class; never forgets one. */
  devices(): DeviceRecord[] {
    return this.registry.list();
  }

  /** Every device with what polling learned of it, for keeping across restarts. */
  knownDevices(): KnownDevice[] {
    return this.registry.list().map((device) => {
      const learned = this.poller.learned(device.deviceId);
      return learned === undefined ? { identity: identityOf(device) } : { identity: identityOf(device), learned };
    });
  }

  /** Per polled device: batch size, EPCs left out, request counters. */
  pollViews(): DevicePollView[] {
    return this.poller.views();
  }

  counters(): ControllerCounters {
    const polled = this.poller.views().reduce((sum, view) => sum + view.stats.foreignAnswersDropped, 0);
    return { transport: this.transport.counters, ...this.stats, foreignAnswersDropped: this.stats.foreignAnswersDropped + polled };
  }

  /**
   * Runs a search now (in addition to the periodic ones): a multicast search and a unicast probe of
   * every static address, side by side. Resolves once the search window closed and the probes were
   * answered or gave up, with the number of nodes that answered either.
   */
  async searchNow(): Promise<number> {
    if (this.state !== 'running') return 0;
    this.stats.searches += 1;
    const answered = new Set<string>();
    const probes = this.settings.staticAddresses.map(async (address) => {
      if (await this.describeIfStale(address, { force: false, rereadMaps: false })) answered.add(address);
    });
    const search = this.discovery.search(this.settings.searchWindow, (answer) => {
      answered.add(answer.address);
      this.log.debug({ address: answer.address, nodeId: answer.nodeId, instances: answer.instances?.map(eojToHex) }, 'echonet node answered search');
      this.followUpSearchAnswer(answer);
    });
    const [searched] = await Promise.allSettled([search, ...probes]);
    // A failed multicast must not cost the static probes: they exist for networks where multicast fails.
    if (searched?.status === 'rejected') this.log.warn({ err: searched.reason as unknown }, 'echonet multicast search failed');
    return answered.size;
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
    const binding = this.bindingOf(deviceId);
    if (binding === undefined) return { ok: false, reason: 'NO_ANSWER', message: `${deviceId} is not at a known address right now` };
    try {
      const received = await this.channelFor(binding.address).setC(eoj, properties, () => this.nodes.isBound(binding));
      if (!this.answeredByOwnNode(binding)) return { ok: false, reason: 'NO_ANSWER', message: `${deviceId} left its address while the Set was under way` };
      this.poller.pollSoon(deviceId);
      if (received.frame.esv === ESV.SetRes) return { ok: true };
      const refused = allProperties(received.frame).filter((p) => p.edt.length > 0).map((p) => codecFor(eoj, p.epc)?.name ?? byteHex(p.epc));
      return { ok: false, reason: 'REJECTED', message: `device refused ${refused.join(', ')}` };
    } catch (error) {
      return { ok: false, reason: 'NO_ANSWER', message: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * Get of named properties from a device now, past the poll schedule (to know what a Set changes
   * and to read it back): the decoded values of those the device answered.
   */
  async readProperties(deviceId: string, names: readonly string[]): Promise<ReadOutcome> {
    const device = this.registry.get(deviceId);
    const eoj = device === undefined ? undefined : parseEojHex(device.eoj);
    if (device === undefined || eoj === undefined) return { ok: false, reason: 'UNKNOWN_DEVICE', message: `no device ${deviceId}` };
    const epcs: number[] = [];
    for (const name of names) {
      const codec = codecByName(eoj, name);
      if (codec === undefined) return { ok: false, reason: 'UNKNOWN_PROPERTY', message: `no property ${name} in ${device.eoj}` };
      epcs.push(codec.epc);
    }
    const binding = this.bindingOf(deviceId);
    if (binding === undefined) return { ok: false, reason: 'NO_ANSWER', message: `${deviceId} is not at a known address right now` };
    try {
      const received = await this.channelFor(binding.address).get(eoj, epcs, () => this.nodes.isBound(binding));
      if (!this.answeredByOwnNode(binding)) return { ok: false, reason: 'NO_ANSWER', message: `${deviceId} left its address while the Get was under way` };
      return { ok: true, values: decodeProperties(eoj, allProperties(received.frame)).properties };
    } catch (error) {
      return { ok: false, reason: 'NO_ANSWER', message: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * Whether an answer on `binding` came from the node it was made for: the address may have gone to
   * another node while the request was out, and that node's answer is not the device's. Counted if not.
   */
  private answeredByOwnNode(binding: Binding): boolean {
    if (this.nodes.isBound(binding)) return true;
    this.stats.foreignAnswersDropped += 1;
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Known devices from an earlier run

  /**
   * Lists the devices an earlier run knew (offline until they answer) and polls them with what was
   * learned, without describing them again. Their nodes are only presumed at their last addresses:
   * units may have swapped addresses while the edge was down, so nothing is bound there until the
   * node at each address confirmed its id (asked at once, or a search answer with the same id).
   */
  private restoreKnownDevices(): void {
    for (const { identity, learned } of this.knownAtStart) {
      const eoj = parseEojHex(identity.eoj);
      if (eoj === undefined || !isReadObject(eoj)) continue;
      const intervalMs = this.intervalFor(eoj);
      const tracked = this.availability.track(identity.deviceId, this.settings.offlineAfterPollIntervals * intervalMs, false);
      const outcome = this.registry.upsert(identity, new Date(), tracked);
      if (this.nodes.get(identity.address)?.key === undefined) this.nodes.presume(identity.address, identity.node);
      if (outcome.device.availability !== tracked) this.applyAvailability({ deviceId: identity.deviceId, from: outcome.device.availability, to: tracked, at: new Date() });
      this.poller.add({ deviceId: identity.deviceId, eoj, epcs: pollPlanFor(eoj, identity.maps.get), intervalMs }, learned);
    }
    if (this.knownAtStart.length === 0) return;
    this.log.info({ devices: this.knownAtStart.length }, 'echonet devices known from the last run listed, polled once their nodes confirm who they are');
    const firstDeviceAt = new Map(this.knownAtStart.map(({ identity }) => [identity.address, identity.deviceId] as const).reverse());
    for (const [address, deviceId] of firstDeviceAt) this.confirmPresumed(address, deviceId);
  }

  // -------------------------------------------------------------------------------------------
  // Searching and describing nodes

  private runSearchLoop(): void {
    if (this.state !== 'running') return;
    this.searching = this.searchNow()
      .catch((error: unknown) => this.log.warn({ err: error }, 'echonet search failed'))
      .finally(() => {
        if (this.state === 'running') this.searchTimer = setTimeout(() => this.runSearchLoop(), searchDelay(this.settings, this.stats.searches));
      });
  }

  private channelFor(address: string): NodeChannel {
    let channel = this.channels.get(address);
    if (channel === undefined) {
      const pacing = { minGapMs: this.settings.minFrameGapMs, notBefore: this.newNodes.next() };
      channel = new NodeChannel(address, this.transport, this.settings.retry, pacing, this.log, this.random);
      this.channels.set(address, channel);
    }
    return channel;
  }

  /**
   * The state kept for an address, as a frame from it arrives; undefined when the table is full of
   * nodes worth keeping (the frame is then ignored).
   */
  private nodeAt(address: string): NodeEntry | undefined {
    const entry = this.nodes.heardFrom(address, (evicted) => {
      // Its channel goes too (a request still on it ends on its own); a device there gets a new one.
      this.channels.delete(evicted.address);
      this.stats.unattributedInfs += evicted.waitingInfs.length;
    });
    if (entry === undefined) this.log.warn({ address, tracked: this.nodes.size }, 'too many echonet addresses, ignoring a new one');
    return entry;
  }

  /**
   * A node that answers a search with the id we know at its address, listing only objects we know
   * with their property maps, is confirmed without another frame; another id there ends every
   * binding to the address at once (a request planned for the node we knew must not reach the new
   * one) and has it described again, as does a new object or one whose maps we still lack. A node
   * known by id whose answer leaves the id out may be another node that took the address without
   * announcing itself: nothing is bound there until the node confirms its id (one Get per search,
   * so a unit that never puts 0x83 in search answers costs one frame a search, not a description).
   * Nodes without an id are described once per search round.
   */
  private followUpSearchAnswer(answer: SearchAnswer): void {
    const node = this.nodes.get(answer.address);
    if (node?.key?.kind === 'id' && answer.nodeId === null && answer.instances !== undefined) {
      this.nodes.presume(answer.address, node.key);
      this.confirmPresumed(answer.address);
      return;
    }
    if (node?.key?.kind !== 'id' || answer.nodeId === null || answer.instances === undefined) {
      void this.describeIfStale(answer.address, { force: false, rereadMaps: false });
      return;
    }
    if (node.key.id !== answer.nodeId) {
      this.nodes.doubt(answer.address);
      void this.describeIfStale(answer.address, { force: true, rereadMaps: false });
      return;
    }
    if (this.nodes.isPresumed(answer.address)) this.confirmed(node, node.key);
    if (this.knowsInFull(node.key, answer.instances)) {
      node.describedAt = Date.now();
      return;
    }
    void this.describeIfStale(answer.address, { force: true, rereadMaps: false });
  }

  /**
   * Asks the node presumed at `address` for its id (unless that is under way): the same id binds it
   * again and its devices are polled now; another id (or none) has the address described again; no
   * answer leaves it presumed, asked again at its devices' next poll. The question counts as a
   * request of `forDevice` (the device whose poll waits for it), so a silent unit's counters show it.
   */
  private confirmPresumed(address: string, forDevice?: string): void {
    const node = this.nodes.get(address);
    if (this.state !== 'running' || node?.key === undefined || !this.nodes.isPresumed(address) || this.confirming.has(address)) return;
    const { key, generation } = node;
    this.confirming.add(address);
    let retries = 0;
    this.discovery
      .nodeIdAt(address, () => (retries += 1))
      .then((nodeId) => {
        if (forDevice !== undefined) this.poller.countIdentityCheck(forDevice, retries, true);
        if (this.state !== 'running') return;
        const unchanged = node.generation === generation;
        if (unchanged && sameNode(nodeKeyOf(nodeId, address), key)) {
          this.confirmed(node, key);
          return;
        }
        if (unchanged) {
          this.log.warn({ address, presumed: describeKey(key), nodeId }, 'another echonet node answers at this address');
          this.nodes.doubt(address);
        }
        // Whoever answers here now (doubted by this answer, or meanwhile by the presumed node's id seen elsewhere) is described.
        if (node.key === undefined) void this.describeIfStale(address, { force: true, rereadMaps: false });
      })
      .catch((error: unknown) => {
        if (forDevice !== undefined && error instanceof EchonetRequestError && error.code === 'TIMEOUT') this.poller.countIdentityCheck(forDevice, retries, false);
        this.log.debug({ address, err: error }, 'echonet node presumed at this address did not confirm its id');
      })
      .finally(() => this.confirming.delete(address));
  }

  /** The presumed node confirmed its id: bound again, its devices polled now and its waiting INFs read. */
  private confirmed(node: NodeEntry, key: NodeKey): void {
    if (!this.nodes.confirm(node.address, key)) return;
    node.describedAt = Date.now();
    for (const device of this.registry.list()) {
      if (device.address === node.address && sameNode(device.node, key)) this.poller.pollSoon(device.deviceId);
    }
    this.replayWaitingInfs(node);
  }

  /** Whether every object listed is a device we know with its Get map, so describing its node again would teach nothing. */
  private knowsInFull(key: NodeKey, instances: readonly Eoj[]): boolean {
    return instances.filter(isReadObject).every((eoj) => (this.registry.get(deviceIdOf(key, eoj))?.maps.get ?? null) !== null);
  }

  /**
   * Describes the node at `address` unless that is under way or was done lately; resolves true if
   * the node answered (or did lately). Never rejects. A forced description asked for while one is
   * under way runs again after it: the one under way may have begun before the reason for it.
   */
  private describeIfStale(address: string, why: { readonly force: boolean; readonly rereadMaps: boolean }): Promise<boolean> {
    const node = this.state === 'running' ? this.nodeAt(address) : undefined;
    if (node === undefined) return Promise.resolve(false);
    if (node.describing) {
      if (why.force) node.describeAgain = { rereadMaps: why.rereadMaps || (node.describeAgain?.rereadMaps ?? false) };
      return node.describing;
    }
    const fresh = node.key !== undefined && Date.now() - node.describedAt < this.settings.searchIntervalMs / 2;
    if (fresh && !why.force) return Promise.resolve(true);
    const describing = this.describeNode(node, why.rereadMaps)
      .then(() => true)
      .catch((error: unknown) => {
        if (this.state === 'running') this.log.warn({ address, err: error }, 'echonet node could not be described');
        return false;
      })
      .finally(() => {
        node.describing = undefined;
        const again = node.describeAgain;
        node.describeAgain = undefined;
        if (again !== undefined) void this.describeIfStale(address, { force: true, rereadMaps: again.rereadMaps });
      });
    node.describing = describing;
    return describing;
  }

  private async describeNode(node: NodeEntry, rereadMaps: boolean): Promise<void> {
    const generation = node.generation;
    const known = node.key;
    const described = await this.discovery.describeNode(node.address);
    // A node does not lose its identification number, but another node without one may have taken
    // the address unannounced: an answer without 0x83 (a Get_SNA under load?) keeps the known id only
    // if the node, asked for 0x83 alone once more, gives it; otherwise the node there is keyed by address.
    const description = described.nodeId === null && known?.kind === 'id' && (await this.idConfirmedAt(node.address, known.id)) ? { ...described, nodeId: known.id } : described;
    const key = await this.checkedNodeKey(description);
    if (this.state !== 'running') return;
    // Doubted while we asked (a boot announcement from the address): this answer may be the old node's.
    if (node.generation !== generation && node.describeAgain !== undefined) return;
    if (node.key !== undefined && !sameNode(node.key, key)) {
      this.log.warn({ address: node.address, before: describeKey(node.key), now: describeKey(key) }, 'a different echonet node answers at this address');
    }
    this.nodes.assign(node.address, key);
    node.describedAt = Date.now();
    const readObjects = description.instances.filter(isReadObject);
    for (const eoj of readObjects) await this.registerObject(node, key, description, eoj, rereadMaps);
    this.stopPollingUnlisted(key, readObjects);
    this.replayWaitingInfs(node);
  }

  private async idConfirmedAt(address: string, nodeId: string): Promise<boolean> {
    return (await this.discovery.nodeIdAt(address).catch(() => null)) === nodeId;
  }

  /**
   * The node's key, guarding against two nodes claiming one identification number (seen with
   * software nodes that derive it from a MAC they do not have). The address we knew the node at is
   * in doubt at once, so nothing planned for the node goes there while we check; if that address
   * still answers with the same number, it keeps it and this node falls back to address-based ids
   * instead of stealing the devices.
   */
  private async checkedNodeKey(description: NodeDescription): Promise<NodeKey> {
    const key = nodeKeyOf(description.nodeId, description.address);
    if (key.kind !== 'id') return key;
    const otherAddress = this.nodes.addressOfNodeId(key.id);
    if (otherAddress === undefined || otherAddress === description.address) return key;
    this.nodes.doubt(otherAddress);
    const idThere = await this.discovery.nodeIdAt(otherAddress).catch(() => undefined);
    if (idThere === key.id) {
      this.log.warn({ address: description.address, otherAddress, nodeId: key.id }, 'two echonet nodes share one identification number; using address-based ids');
      this.nodes.assign(otherAddress, key);
      return nodeKeyOf(null, description.address);
    }
    // Another node (or one without an id) answers where this one was: it is described in turn.
    if (idThere !== undefined) void this.describeIfStale(otherAddress, { force: true, rereadMaps: false });
    return key;
  }

  private async registerObject(node: NodeEntry, key: NodeKey, description: NodeDescription, eoj: Eoj, rereadMaps: boolean): Promise<void> {
    const deviceId = deviceIdOf(key, eoj);
    const known = this.registry.get(deviceId);
    const objectInfo =
      known !== undefined && known.maps.get !== null && !rereadMaps
        ? undefined
        : await this.discovery.describeObject(node.address, eoj).catch((error: unknown) => {
            this.log.warn({ deviceId, address: node.address, eoj: eojToHex(eoj), err: error }, 'echonet property maps unavailable, polling without them');
            return undefined;
          });
    if (this.state !== 'running') return;
    const intervalMs = this.intervalFor(eoj);
    // Online only once the object itself answered us: its maps now, or a poll later.
    const tracked = this.availability.track(deviceId, this.settings.offlineAfterPollIntervals * intervalMs, objectInfo !== undefined);
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
      tracked,
    );
    const fields = { deviceId, address: node.address, eoj: eojToHex(eoj) };
    if (outcome.kind === 'added') {
      this.log.info({ ...fields, manufacturer: outcome.device.manufacturer, airConditioner: isHomeAirConditioner(eoj) }, 'echonet device discovered');
      this.emit('device', { type: 'discovered', device: outcome.device });
    } else if (outcome.kind === 'moved') {
      this.log.info({ ...fields, from: outcome.from }, 'echonet device moved to a new address');
      this.emit('device', { type: 'moved', device: outcome.device, from: outcome.from });
    }
    if (known !== undefined && !sameMaps(known.maps, outcome.device.maps)) {
      this.log.info(fields, 'echonet device property maps changed, polling what the new Get map lists');
      this.emit('device', { type: 'propertyMapChanged', device: outcome.device, before: known.maps });
    }
    // A registry that outlived us (a persistent one) may remember another state than we start from.
    if (outcome.device.availability !== tracked) this.applyAvailability({ deviceId, from: outcome.device.availability, to: tracked, at: new Date() });
    this.poller.add({ deviceId, eoj, epcs: pollPlanFor(eoj, outcome.device.maps.get), intervalMs });
    // Its node just answered us: a device that moved or was not answering is worth asking now,
    // rather than at the end of its backoff.
    if (outcome.kind === 'moved' || tracked !== 'online') this.poller.pollSoon(deviceId);
  }

  /** Objects the node no longer lists (it restarted with another instance list) are no longer polled, and are offline. */
  private stopPollingUnlisted(key: NodeKey, listed: readonly Eoj[]): void {
    const listedIds = new Set(listed.map((eoj) => deviceIdOf(key, eoj)));
    for (const device of this.registry.list()) {
      if (!sameNode(device.node, key) || listedIds.has(device.deviceId) || !this.poller.has(device.deviceId)) continue;
      this.poller.remove(device.deviceId);
      this.log.info({ deviceId: device.deviceId, address: device.address, eoj: device.eoj }, 'echonet node no longer lists this object, polling it stopped');
      this.applyAvailability(this.availability.gone(device.deviceId, new Date()));
    }
  }

  private intervalFor(eoj: Eoj): number {
    return isHomeAirConditioner(eoj) ? this.settings.pollIntervalMs : this.settings.otherClassPollIntervalMs;
  }

  // -------------------------------------------------------------------------------------------
  // Polling and availability

  /**
   * Polls go to the device's address only while the node there is the device's node, bound to it. A
   * node only presumed there is asked for its id first; the device is polled once it confirmed.
   */
  private bindingOf(deviceId: string): Binding | undefined {
    const device = this.registry.get(deviceId);
    if (device === undefined) return undefined;
    if (this.nodes.isPresumed(device.address)) this.confirmPresumed(device.address, deviceId);
    return this.nodes.bind(device.address, device.node);
  }

  private handlePollValues(result: PollResult): void {
    this.emitObservation({ deviceId: result.target.deviceId, eoj: result.target.eoj, address: result.address }, 'poll', result.properties, result.receivedAt);
  }

  /**
   * A poll that got no answer. A unit that falls silent may be leaving its address, and the next
   * node given it may not announce itself (its boot INF lost on Wi-Fi): a node known by id is only
   * presumed there until it confirms its id, so no answer from whoever comes next is read as its.
   */
  private markFailed(deviceId: string, error: unknown): void {
    const device = this.registry.get(deviceId);
    this.log.debug({ deviceId, address: device?.address, eoj: device?.eoj, err: error }, 'echonet poll failed');
    if (device?.node.kind === 'id' && this.nodes.bind(device.address, device.node) !== undefined) this.nodes.presume(device.address, device.node);
    this.applyAvailability(this.availability.failed(deviceId, new Date()));
  }

  private sweepAvailability(): void {
    for (const change of this.availability.sweep(new Date())) this.applyAvailability(change);
  }

  private applyAvailability(change: AvailabilityChange | undefined): void {
    if (change === undefined || !this.registry.setAvailability(change.deviceId, change.to, change.at)) return;
    const device = this.registry.get(change.deviceId);
    if (device === undefined) return;
    const fields = { deviceId: device.deviceId, address: device.address, eoj: device.eoj, from: change.from, to: change.to };
    if (change.to === 'online') this.log.info(fields, 'echonet device answers again');
    else this.log.warn(fields, change.to === 'unreachable' ? 'echonet device announces but does not answer' : 'echonet device is offline');
    this.emit('device', { type: 'availability', device, from: change.from });
  }

  // -------------------------------------------------------------------------------------------
  // Frames nobody was waiting for: requests to our own node, INF, INFC

  private handleUnsolicited(received: ReceivedFrame): void {
    const { frame } = received;
    if (isRequestEsv(frame.esv)) {
      this.inBackground('answer a request', received, () => this.answerRequest(received));
      return;
    }
    // The transport hands us nothing else than requests, INF and INFC.
    if (frame.esv === ESV.Infc) this.inBackground('acknowledge an INFC', received, () => this.acknowledgeInfc(received.address, frame));
    if (isNodeProfile(frame.seoj)) {
      // 0xD5 at boot or when the instance list changed: whoever answers here may be another node
      // now (a move, a swap), and its objects may have new maps. Nothing goes to the address on the
      // old node's behalf until it is described again, with its maps read afresh.
      const announcesInstances = allProperties(frame).some((p) => p.epc === NodeProfileEpc.instanceListNotification);
      if (announcesInstances) this.nodes.doubt(received.address);
      void this.describeIfStale(received.address, { force: announcesInstances, rereadMaps: announcesInstances });
      return;
    }
    this.attributeNotification(received);
  }

  /** Work nobody waits for: a bug in it is logged and counted, never an unhandled rejection that ends the process. */
  private inBackground(what: string, cause: ReceivedFrame, work: () => Promise<void>): void {
    work().catch((error: unknown) => {
      this.stats.internalErrors += 1;
      this.log.error({ err: error, what, address: cause.address, ...frameFields(cause.frame) }, 'echonet controller failed at work nobody waits for');
    });
  }

  /** Answers what other nodes ask our node profile or controller object; other objects are not ours to answer for. */
  private async answerRequest(received: ReceivedFrame): Promise<void> {
    const { frame, address } = received;
    const replies = this.ownNode.node.handle(frame);
    if (replies.unicast.length === 0 && replies.multicast.length === 0) {
      this.log.debug({ address, tid: frame.tid, esv: frame.esv, eoj: eojToHex(frame.deoj) }, 'echonet request for an object we do not host ignored');
      return;
    }
    this.stats.requestsAnswered += 1;
    try {
      for (const reply of replies.unicast) await this.transport.send(address, reply);
      for (const announcement of replies.multicast) await this.transport.sendMulticast(announcement);
    } catch (error) {
      this.log.warn({ address, tid: frame.tid, eoj: eojToHex(frame.deoj), err: error }, 'echonet answer to a request could not be sent');
    }
  }

  private async announceOwnInstances(): Promise<void> {
    const announcement = this.ownNode.node.inf(this.ownNode.nodeProfile, [NodeProfileEpc.instanceListNotification]);
    if (announcement === undefined) return;
    try {
      await this.transport.sendMulticast(announcement);
      this.log.info({ nodeId: this.ownNode.identity.nodeId, eoj: eojToHex(CONTROLLER_EOJ) }, 'echonet controller announced itself');
    } catch (error) {
      this.log.warn({ err: error }, 'echonet instance list announcement could not be sent');
    }
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
    if (node === undefined) {
      this.stats.unattributedInfs += 1;
      return;
    }
    const device = this.registry.findByEndpoint(received.address, eojToHex(received.frame.seoj));
    if (device !== undefined && node.key !== undefined && sameNode(node.key, device.node)) {
      if (!this.nodes.isPresumed(received.address)) {
        this.acceptNotification(device, received);
        return;
      }
      // Something announces at the address, but its values are the device's only once the node there confirmed its id.
      this.applyAvailability(this.availability.announced(device.deviceId, received.receivedAt));
      this.keepUntilDescribed(node, received);
      this.confirmPresumed(received.address);
      return;
    }
    this.keepUntilDescribed(node, received);
    void this.describeIfStale(received.address, { force: false, rereadMaps: false });
  }

  /** An INF we cannot attribute yet waits for its node's description; the oldest go when too many wait. */
  private keepUntilDescribed(node: NodeEntry, received: ReceivedFrame): void {
    node.waitingInfs.push({ ...received, frame: detachedFrame(received.frame) });
    while (node.waitingInfs.length > MAX_WAITING_INFS || propertyBytes(node.waitingInfs) > MAX_WAITING_INF_BYTES) {
      node.waitingInfs.shift();
      this.stats.unattributedInfs += 1;
    }
  }

  private replayWaitingInfs(node: NodeEntry): void {
    const waiting = node.waitingInfs.splice(0);
    for (const received of waiting) {
      const device = this.registry.findByEndpoint(received.address, eojToHex(received.frame.seoj));
      if (device === undefined) this.stats.unattributedInfs += 1;
      else this.acceptNotification(device, received);
    }
  }

  /** An announcement from a known device: it is alive (whatever its polls say), and its values are readings. */
  private acceptNotification(device: DeviceRecord, received: ReceivedFrame): void {
    this.applyAvailability(this.availability.announced(device.deviceId, received.receivedAt));
    this.emitObservation({ deviceId: device.deviceId, eoj: received.frame.seoj, address: received.address }, 'inf', allProperties(received.frame), received.receivedAt);
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

function propertyBytes(frames: readonly ReceivedFrame[]): number {
  return frames.reduce((sum, { frame }) => sum + allProperties(frame).reduce((n, p) => n + 2 + p.edt.length, 0), 0);
}

function describeKey(key: NodeKey): string {
  return key.kind === 'id' ? key.id : `address ${key.address}`;
}

function identityOf(device: DeviceRecord): DeviceIdentity {
  const { deviceId, node, eoj, address, manufacturer, maps } = device;
  return { deviceId, node, eoj, address, manufacturer, maps };
}
