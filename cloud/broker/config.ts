import type { FromSchema } from 'json-schema-to-ts';
import { serverTlsSchema } from '../tls-config.js';

/** The MQTT broker inside the cloud process (one VM, the demo). */
export const brokerConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['enabled', 'host', 'port', 'tls', 'maxPacketBytes', 'maxQueuedPerClient', 'concurrency'],
  properties: {
    enabled: { type: 'boolean', default: false, description: 'run an MQTT 3.1.1 broker inside this process; sites authenticate against the registry' },
    host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'address to listen on' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 1883, description: '8883 is usual with TLS' },
    tls: serverTlsSchema('broker speaks mqtts'),
    maxPacketBytes: {
      type: 'integer',
      minimum: 65_536,
      maximum: 268_435_455,
      default: 6 * 1024 * 1024,
      description: 'a client sending a larger packet is disconnected before the packet is buffered',
    },
    maxQueuedPerClient: {
      type: 'integer',
      minimum: 10,
      default: 1000,
      description: 'QoS 1 messages kept for one offline client at most; older ones are dropped and counted',
    },
    concurrency: {
      type: 'integer',
      minimum: 100,
      maximum: 100_000,
      default: 10_000,
      description:
        "messages the broker delivers at once (aedes's concurrency, 100 by its default); a delivery to the ingest waits while Kafka is busy, so with too few the cloud's acks queue behind the sites' batches and every site times out",
    },
  },
} as const;

export type BrokerConfig = FromSchema<typeof brokerConfigSchema>;
