import type { Component } from '../../shared/lifecycle.js';
import type { CloudContext } from '../context.js';
import { LakeWriter } from '../lake/lake-writer.js';
import { openTableStore } from '../lake/storage/open-store.js';
import type { Role } from './role.js';

/** Kafka's readings into the Delta tables (readings, dead letters), exactly once, on a local folder or S3. */
export function lakeRole(): Role {
  return {
    name: 'lake',
    enabled: (config) => config.roles.lake,
    components(context: CloudContext): Component[] {
      const { config, log } = context;
      const stores = {
        readings: openTableStore(config.lake.root, 'readings', config.lake.s3),
        deadLetters: openTableStore(config.lake.root, 'dead_letters', config.lake.s3),
      };
      const writer = new LakeWriter(
        context.kafka,
        stores,
        { ...config.lake, topic: config.kafka.topics.readings, onFatal: (err: Error) => context.fatal(err) },
        log.child({ part: 'lake' }),
        `echolake-cloud/${context.version}`,
      );
      return [{ name: 'lake', start: () => writer.start(), stop: () => writer.stop() }];
    },
  };
}
