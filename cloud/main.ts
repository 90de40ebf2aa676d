#!/usr/bin/env node
import { hostname } from 'node:os';
import { runDeployable, type Component } from '../shared/lifecycle.js';
import { createLogger } from '../shared/log.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import { loadCloudConfig, type CloudConfig } from './config.js';
import { KafkaReadingSink } from './ingest/kafka-readings-sink.js';
import { MqttIngest } from './ingest/mqtt-ingest.js';
import { createKafka, ensureTopics } from './kafka/client.js';
import { LakeWriter } from './lake/lake-writer.js';
import { openTableStore } from './lake/storage/open-store.js';

const log = createLogger('cloud');

/** The cloud's parts in start order: broker, topics, ingest, lake. Roles switch ingest and lake on or off. */
function components(config: CloudConfig): Component[] {
  const kafka = createKafka({ ...config.kafka }, log.child({ part: 'kafka' }));
  const parts: Component[] = [];
  if (config.mqtt.embedded.enabled) {
    parts.push(named('mqtt-broker', new EmbeddedBroker(config.mqtt.embedded, log.child({ part: 'mqtt-broker' }))));
  }
  parts.push({ name: 'kafka-topics', start: () => ensureTopics(kafka, config.kafka), stop: () => undefined });
  if (config.roles.ingest) {
    const sink = new KafkaReadingSink(kafka, config.kafka.topics);
    const clientId = config.mqtt.clientId === '' ? `echolake-cloud-ingest-${hostname()}` : config.mqtt.clientId;
    const ingest = new MqttIngest({ ...config.mqtt, clientId }, sink, log.child({ part: 'ingest' }));
    parts.push({ name: 'kafka-producer', start: () => sink.connect(), stop: () => sink.disconnect() });
    parts.push(named('ingest', ingest));
  }
  if (config.roles.lake) {
    const stores = {
      readings: openTableStore(config.lake.root, 'readings', config.lake.s3),
      deadLetters: openTableStore(config.lake.root, 'dead_letters', config.lake.s3),
    };
    const onFatal = (error: Error): void => {
      log.fatal({ part: 'lake', err: error }, 'kafka consumer gave up; exiting to be restarted');
      process.exit(1);
    };
    const writer = new LakeWriter(kafka, stores, { ...config.lake, topic: config.kafka.topics.readings, onFatal }, log.child({ part: 'lake' }));
    parts.push(named('lake', writer));
  }
  return parts;
}

function named(name: string, part: { start(): Promise<void>; stop(): Promise<void> }): Component {
  return { name, start: () => part.start(), stop: () => part.stop() };
}

runDeployable(
  {
    name: 'echolake-cloud',
    log,
    loadConfig: (file, overrides) => loadCloudConfig(file, process.env, overrides),
    components,
    describe: (config) => ({ roles: config.roles, brokers: config.kafka.brokers, lakeRoot: config.lake.root }),
  },
  process.argv.slice(2),
);
