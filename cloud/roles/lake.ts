import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Component } from '../../shared/lifecycle.js';
import type { CloudContext } from '../context.js';
import { DeltaTable } from '../lake/delta-table.js';
import { LakeWriter } from '../lake/lake-writer.js';
import { LocalObjectStore } from '../lake/object-store.js';
import { READINGS_TABLE } from '../lake/readings-table.js';
import type { Role } from './role.js';

/** Kafka's readings into the Delta table, exactly once. */
export function lakeRole(): Role {
  return {
    name: 'lake',
    enabled: (config) => config.roles.lake,
    components(context: CloudContext): Component[] {
      const { config, log } = context;
      const tableRoot = join(config.lake.root, 'readings');
      mkdirSync(tableRoot, { recursive: true });
      const table = new DeltaTable(new LocalObjectStore(tableRoot), READINGS_TABLE, log.child({ part: 'lake' }), 'echolake-cloud');
      const writer = new LakeWriter(context.kafka, table, { ...config.lake, topic: config.kafka.topics.readings, onFatal: (err) => context.fatal(err) }, log.child({ part: 'lake' }));
      return [{ name: 'lake', start: () => writer.start(), stop: () => writer.stop() }];
    },
  };
}
