#!/usr/bin/env node
import { join } from 'node:path';
import { projectVersion } from '../shared/version.js';
import { createApiServer } from './api/server.js';
import { apiSources } from './api-sources.js';
import { runDeployable, type Component } from '../shared/lifecycle.js';
import { createLogger } from '../shared/log.js';
import { GroupCommit } from './buffer/group-commit.js';
import { storeMaintenance } from './buffer/maintenance.js';
import { ReadingStore } from './buffer/reading-store.js';
import { loadEdgeConfig, type EdgeConfig } from './config.js';
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
function components(config: EdgeConfig): Component[] {
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
  const parts: Component[] = [
    { name: 'buffer', start: () => undefined, stop: () => store.close() },
    keepKnownDevices(controller, store),
    storeMaintenance(store, MAINTENANCE_INTERVAL_MS, log.child({ part: 'buffer' })),
    { name: 'uplink', start: () => uplink.start(), stop: () => uplink.stop() },
    { name: 'group-commit', start: () => undefined, stop: () => commits.close() },
    { name: 'echonet', start: () => controller.start(), stop: () => controller.stop() },
    // After the controller: a restore due while the edge was down runs once the units can be reached.
    { name: 'commands', start: () => executor.start(), stop: () => executor.stop() },
  ];
  if (config.api.enabled) {
    const sources = apiSources({ siteId: config.siteId, startedAt: Date.now(), controller, store, uplink, executor, results, recorded: () => recorded, droppedUnsaved: () => commits.droppedUnsaved() });
    const api = { host: config.api.host ?? config.echonet.interface, port: config.api.port, token: config.api.token, version: projectVersion() };
    parts.push(createApiServer(api, sources, log.child({ part: 'api' })));
  }
  const notifier = SystemdNotifier.fromEnvironment(process.env, log.child({ part: 'systemd' }));
  if (notifier !== undefined) {
    notifier.healthCheck = () => store.health();
    // Last to start, first to stop: READY=1 only once the database is open and the sockets are bound.
    parts.push({ name: 'systemd-notify', start: () => notifier.ready(`site ${config.siteId}`), stop: () => notifier.stopping() });
  }
  return parts;
}

/**
 * Writes the devices the controller knows to the database: soon after one is found, moves or
 * changes its maps, every minute (for what polling learned), and a last time once polling stopped.
 */
function keepKnownDevices(controller: EchonetController, store: ReadingStore): Component {
  const save = (): void => {
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
  },
  process.argv.slice(2),
);
