#!/usr/bin/env node
import { join } from 'node:path';
import { projectVersion } from '../shared/version.js';
import { createApiServer } from './api/server.js';
import { apiSources } from './api-sources.js';
import { runDeployable, type Component, type Shutdown } from '../shared/lifecycle.js';
import { createLogger } from '../shared/log.js';
import { GroupCommit } from './buffer/group-commit.js';
import { storeMaintenance } from './buffer/maintenance.js';
import { ReadingStore } from './buffer/reading-store.js';
import { loadEdgeConfig, type EdgeConfig } from './config.js';
import { AddressGate, addressProblems, type BoundAddress } from './host-address.js';
import { prepareStateDir } from './state-dir.js';
import { CommandExecutor } from './commands/executor.js';
import { CommandStore } from './commands/command-store.js';
import { ResultOutbox } from './commands/result-outbox.js';
import { EchonetController } from './echonet/controller.js';
import { knownDeviceJson, parseKnownDevice } from './echonet/known-devices.js';
import { deviceEventObservation } from './echonet/observation.js';
import { SystemdNotifier } from './supervision/systemd-notify.js';
import { Uplink } from './uplink/uplink.js';

const MAINTENANCE_INTERVAL_MS = 60_000;
/** Known devices (and what polling learned of them) are written this often, on changes soon after. */
const KNOWN_DEVICES_SAVE_MS = 60_000;
const KNOWN_DEVICES_CHANGE_DELAY_MS = 1_000;

const log = createLogger('edge');

/**
 * The edge's parts in start order; data flows one way: controller → group commit → store → uplink.
 * Stopping runs backwards: polling stops first, the last readings are committed, then the link
 * and the database close.
 */
function components(config: EdgeConfig, shutdown: Shutdown): Component[] {
  prepareStateDir(config.stateDir);
  const store = ReadingStore.open(
    {
      path: join(config.stateDir, 'edge.db'),
      siteId: config.siteId,
      durability: config.buffer.durability,
      maxBytes: config.buffer.maxBytes,
      historyMs: config.buffer.historyHours * 3_600_000,
    },
    log.child({ part: 'buffer', siteId: config.siteId }),
  );
  const commandStore = new CommandStore(store.database());
  const results = new ResultOutbox(commandStore, log.child({ part: 'commands', siteId: config.siteId }));
  const commandLink = {
    // The executor is built with the controller below; the link delivers nothing before it starts.
    offer: (payload: Buffer) => executor.offer(payload),
    linkUp: results.linkUp.bind(results),
    linkDown: results.linkDown.bind(results),
  };
  const uplink = new Uplink({ ...config.uplink, siteId: config.siteId }, store, log.child({ part: 'uplink' }), commandLink);
  let recorded = 0;
  const commits = new GroupCommit(
    store,
    config.buffer.commitIntervalMs,
    (readings) => {
      recorded += readings.length;
      uplink.notify();
    },
    log.child({ part: 'buffer', siteId: config.siteId }),
  );
  const knownDevices = store.knownDevices().flatMap(({ id, payload }) => {
    const device = parseKnownDevice(payload);
    if (device === undefined) log.warn({ deviceId: id }, 'a known device kept in the database could not be read; it will be found again by search');
    return device === undefined ? [] : [device];
  });
  const controller = new EchonetController({
    interfaceAddress: config.echonet.interface,
    port: config.echonet.port,
    pollIntervalMs: config.echonet.pollIntervalMs,
    searchIntervalMs: config.echonet.searchIntervalMs,
    requestTimeoutMs: config.echonet.requestTimeoutMs,
    maxRetries: config.echonet.retries,
    maxBatchSize: config.echonet.maxEpcsPerGet,
    staticAddresses: config.echonet.staticAddresses,
    knownDevices,
    logger: log.child({ part: 'echonet', siteId: config.siteId }),
  });
  controller.on('observation', (observation) => commits.add(observation));
  const executor = new CommandExecutor({
    siteId: config.siteId,
    policy: config.commands,
    store: commandStore,
    devices: {
      airconIds: () => controller.devices().filter((device) => device.eoj.startsWith('0130')).map((device) => device.deviceId),
      readProperties: (deviceId, names) => controller.readProperties(deviceId, names),
      setProperties: (deviceId, values) => controller.setProperties(deviceId, values),
    },
    report: (result) => results.add(result),
    log: log.child({ part: 'commands', siteId: config.siteId }),
  });
  if (config.echonet.sendDeviceEvents) controller.on('device', (event) => commits.add(deviceEventObservation(event, new Date())));
  // An address not (yet) on this host is waited for, not a crash: see host-address.ts.
  const gate = (bound: BoundAddress, part: Component, logWait = true): AddressGate =>
    new AddressGate({ bound, part, onFailure: (err) => shutdown.request(err), log: log.child({ part: part.name }), logWait });
  const [echonetAddress, apiAddress] = boundAddresses(config);
  const echonet = gate(echonetAddress, { name: 'echonet', start: () => controller.start(), stop: () => controller.stop() });
  const parts: Component[] = [
    { name: 'buffer', start: () => undefined, stop: () => store.close() },
    keepKnownDevices(controller, store),
    storeMaintenance(store, MAINTENANCE_INTERVAL_MS, log.child({ part: 'buffer' })),
    { name: 'uplink', start: () => uplink.start(), stop: () => uplink.stop() },
    { name: 'group-commit', start: () => undefined, stop: () => commits.close() },
    echonet,
    // After the controller: a restore due while the edge was down runs once the units can be reached.
    { name: 'commands', start: () => executor.start(), stop: () => executor.stop() },
  ];
  if (config.api.enabled && apiAddress !== undefined) {
    const waitingFor = (): string[] => [echonet.waitingFor()].filter((what) => what !== undefined);
    const sources = apiSources({ siteId: config.siteId, startedAt: Date.now(), controller, store, uplink, executor, results, recorded: () => recorded, droppedUnsaved: () => commits.droppedUnsaved(), waitingFor,
      databaseCapBytes: config.buffer.maxBytes, stateDir: config.stateDir, interfaceAddress: config.echonet.interface });
    const { port, token, maxConcurrentRequests } = config.api;
    const api = { host: apiAddress.address, port, token, maxConcurrentRequests, version: projectVersion() };
    // On the ECHONET interface (the default) the API waits with it, and the echonet gate's line says so.
    parts.push(gate(apiAddress, createApiServer(api, sources, log.child({ part: 'api' })), apiAddress.address !== echonetAddress.address));
  }
  const notifier = SystemdNotifier.fromEnvironment(process.env, log.child({ part: 'systemd' }));
  if (notifier !== undefined) {
    notifier.healthCheck = () => store.health();
    // Last to start, first to stop: READY=1 once the database is open and the sockets are bound, or
    // their address is waited for (then /readyz says so): held back, systemd's start timeout would
    // only restart the edge into the same wait.
    parts.push({ name: 'systemd-notify', start: () => notifier.ready(`site ${config.siteId}`), stop: () => notifier.stopping() });
  }
  return parts;
}

/** The addresses the edge binds: the ECHONET Lite interface, and the local API's host when the API is on. */
function boundAddresses(config: EdgeConfig): [BoundAddress, BoundAddress | undefined] {
  const echonet = { field: 'echonet.interface', variable: 'ECHOLAKE_EDGE_ECHONET__INTERFACE', address: config.echonet.interface, binder: 'the ECHONET Lite transport' };
  if (!config.api.enabled) return [echonet, undefined];
  const binder = 'the local API';
  // By default the API listens on the ECHONET interface: then that one setting is what to fix.
  const api = config.api.host === undefined ? { ...echonet, binder } : { field: 'api.host', variable: 'ECHOLAKE_EDGE_API__HOST', address: config.api.host, binder };
  return [echonet, api];
}

/** For --check-config: each address to bind that this host does not have, once (the API's default is the interface's). */
function hostProblems(config: EdgeConfig): string[] {
  const [echonet, api] = boundAddresses(config);
  return addressProblems(api === undefined || api.field === echonet.field ? [echonet] : [echonet, api]);
}

/**
 * Writes the devices the controller knows to the database: soon after one is found, moves or
 * changes its maps, every minute (for what polling learned), and a last time once polling stopped.
 */
function keepKnownDevices(controller: EchonetController, store: ReadingStore): Component {
  const save = (): void => {
    // Not before the controller started (it may wait for its address): it knows no device yet, and
    // saving its empty list would erase the devices kept from the last run.
    if (!controller.started) return;
    try {
      store.saveKnownDevices(controller.knownDevices().map((device) => ({ id: device.identity.deviceId, payload: knownDeviceJson(device) })));
    } catch (err) {
      log.warn({ part: 'buffer', err }, 'known devices could not be saved; they will be found again by search after a restart');
    }
  };
  let soon: NodeJS.Timeout | undefined;
  let every: NodeJS.Timeout | undefined;
  controller.on('device', (event) => {
    if (event.type !== 'availability' && soon === undefined) soon = setTimeout(() => ((soon = undefined), save()), KNOWN_DEVICES_CHANGE_DELAY_MS);
  });
  return {
    name: 'known-devices',
    start: () => void (every = setInterval(save, KNOWN_DEVICES_SAVE_MS)),
    stop: () => {
      clearTimeout(soon);
      clearInterval(every);
      save();
    },
  };
}

runDeployable(
  {
    name: 'echolake-edge',
    log,
    loadConfig: (file, overrides) => loadEdgeConfig(file, process.env, overrides),
    components,
    describe: (config) => ({ siteId: config.siteId, stateDir: config.stateDir, interface: config.echonet.interface }),
    hostProblems,
  },
  process.argv.slice(2),
);
