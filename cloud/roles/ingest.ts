import type { Component } from '../../shared/lifecycle.js';
import type { CloudContext } from '../context.js';
import { IngestCore } from '../ingest/core.js';
import { httpsIngestRoutes } from '../ingest/https-route.js';
import { KafkaReadingSink } from '../ingest/kafka-readings-sink.js';
import { createProducer } from '../kafka/client.js';
import { MqttIngest } from '../ingest/mqtt-ingest.js';
import type { Role } from './role.js';

/** Sites' batches from MQTT and HTTPS into Kafka, acknowledged only once Kafka has them. */
export function ingestRole(): Role {
  let core: IngestCore | undefined;
  return {
    name: 'ingest',
    enabled: (config) => config.roles.ingest,
    components(context: CloudContext): Component[] {
      const { config, log } = context;
      const sink = new KafkaReadingSink(createProducer(config.kafka, context.kafka), config.kafka.topics, config.ingest.deadLetterMaxBytes);
      core = new IngestCore(sink, context.sites, context.siteStatus, config.ingest, context.metrics, log.child({ part: 'ingest' }));
      const mqtt = new MqttIngest(
        { mqtt: config.mqtt, credentials: context.cloudMqtt, maxInFlightBatches: config.ingest.maxInFlightBatches },
        core,
        context.siteStatus,
        log.child({ part: 'ingest' }),
      );
      context.readiness('ingest-mqtt', () => mqtt.connected);
      return [
        { name: 'kafka-producer', start: () => sink.connect(), stop: () => sink.disconnect() },
        { name: 'ingest-mqtt', start: () => mqtt.start(), stop: () => mqtt.stop() },
      ];
    },
    routes(app, context) {
      if (core === undefined) throw new Error('the ingest role adds its routes after its components');
      void app.register(httpsIngestRoutes, { core, authorizer: context.authorizer, maxBatchBytes: context.config.ingest.maxBatchBytes, metrics: context.metrics });
    },
  };
}
