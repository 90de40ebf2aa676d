import type { Component } from '../../shared/lifecycle.js';
import type { CloudContext } from '../context.js';
import { DeltaTable } from '../lake/delta/table.js';
import { ensureAuditTopic } from '../commands/audit-topic.js';
import { CommandsLakeWriter } from '../lake/commands-writer.js';
import { LakeWriter } from '../lake/lake-writer.js';
import { MaintenanceSchedule } from '../lake/maintenance.js';
import { openTableStore } from '../lake/storage/open-store.js';
import { COMMANDS_TABLE } from '../lake/tables/commands.js';
import { DEAD_LETTERS_TABLE } from '../lake/tables/dead-letters.js';
import { READINGS_TABLE } from '../lake/tables/readings.js';
import type { Role } from './role.js';

/**
 * Kafka's readings into the Delta tables (readings, dead letters), exactly once, on a local folder
 * or S3; and their maintenance (optimize, vacuum) on a schedule. With `lake.commandsTable`, the
 * commands audit into the table `commands` as well.
 */
export function lakeRole(): Role {
  return {
    name: 'lake',
    enabled: (config) => config.roles.lake,
    components(context: CloudContext): Component[] {
      const { config, log } = context;
      const engineInfo = `echolake-cloud/${context.version}`;
      const stores = {
        readings: openTableStore(config.lake.root, READINGS_TABLE.name, config.lake.s3),
        deadLetters: openTableStore(config.lake.root, DEAD_LETTERS_TABLE.name, config.lake.s3),
      };
      const lakeLog = log.child({ part: 'lake' });
      const writer = new LakeWriter(context.kafka, stores, { ...config.lake, topic: config.kafka.topics.readings, onFatal: (err: Error) => context.fatal(err) }, lakeLog, engineInfo);
      let tables: Promise<DeltaTable[]> | undefined;
      const openTables = (): Promise<DeltaTable[]> =>
        (tables ??= Promise.all([
          DeltaTable.open(stores.readings, READINGS_TABLE, lakeLog, `${engineInfo} maintenance`),
          DeltaTable.open(stores.deadLetters, DEAD_LETTERS_TABLE, lakeLog, `${engineInfo} maintenance`),
        ]).catch((err: unknown) => {
          tables = undefined;
          throw err;
        }));
      const maintenance = new MaintenanceSchedule(openTables, config.lake.maintenance, lakeLog.child({ task: 'maintenance' }));
      const parts: Component[] = [
        { name: 'lake', start: () => writer.start(), stop: () => writer.stop() },
        { name: 'lake-maintenance', start: () => maintenance.start(), stop: () => maintenance.stop() },
      ];
      if (config.lake.commandsTable) {
        const audit = new CommandsLakeWriter(
          context.kafka,
          openTableStore(config.lake.root, COMMANDS_TABLE.name, config.lake.s3),
          { topic: config.commands.topic, groupId: `${config.lake.groupId}-commands`, appId: config.lake.appId, onFatal: (err: Error) => context.fatal(err) },
          lakeLog,
          engineInfo,
        );
        parts.push(
          { name: 'commands-topic', start: () => ensureAuditTopic(context.kafka, config.commands.topic, config.kafka), stop: () => undefined },
          { name: 'lake-commands', start: () => audit.start(), stop: () => audit.stop() },
        );
      }
      return parts;
    },
  };
}
