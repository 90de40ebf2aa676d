/** Public surface of the ECHONET Lite side of the edge gateway; `edge/main.ts` wires it to the buffer. */
export {
  type Availability,
  type ControllerCounters,
  type DeviceEvent,
  type EchonetControllerEvents,
  type EchonetControllerOptions,
  type SetOutcome,
  EchonetController,
} from './controller.js';
export { type DeviceIdentity, type DeviceRecord, type DeviceRegistry, type PropertyMaps, type UpsertOutcome, InMemoryDeviceRegistry } from './registry.js';
export { type TransportCounters, ECHONET_LITE_MULTICAST_GROUP, ECHONET_LITE_PORT } from './transport.js';
