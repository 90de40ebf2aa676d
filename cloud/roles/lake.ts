import type { Component } from '../../shared/lifecycle.js';
import type { CloudContext } from '../context.js';
import { AlertsTableWriter } from '../lake/alerts-writer.js';
import { DeltaTable } from '../lake/delta/table.js';
import { ensureAuditTopic } from '../commands/audit-topic.js';
import { CommandsLakeWriter } from '../lake/commands-writer.js';
import { LakeWriter } from '../lake/lake-writer.js';
import { MaintenanceSchedule } from '../lake/maintenance.js';
import { registerTableMetrics } from '../lake/table-metrics.js';
import { ALERTS_TABLE } from '../lake/tables/alerts.js';
import { COMMANDS_TABLE } from '../lake/tables/commands.js';
import { DEAD_LETTERS_TABLE } from '../lake/tables/dead-letters.js';
import { READINGS_TABLE } from '../lake/tables/readings.js';
import type { TableDefinition } from '../lake/tables/schema.js';
import type { Role } from './role.js';

/** How often the lake looks again for an alerts topic that does not exist yet. */
const ALERTS_TOPIC_CHECK_MS = 5000;

/**
 * Kafka's readings into the Delta tables (readings, dead letters), the alerts topic into the
 * alerts table (`lake.alertsTable`) and the commands audit into the commands table
 * (`lake.commandsTable`), exactly once, on a local folder or S3; and their maintenance
 * (optimize, vacuum) on a schedule.
 */
export function lakeRole(): Role {
  return {
    name: 'lake',
    enabled: (config) => config.roles.lake,
    components(context: CloudContext): Component[] {
      const { config, log } = context;
      const engineInfo = `echolake-cloud/${context.version}`;
      const storeOf = (table: TableDefinition) => context.tableStore(table.name);
      const stores = { readings: storeOf(READINGS_TABLE), deadLetters: storeOf(DEAD_LETTERS_TABLE) };
      const lakeLog = log.child({ part: 'lake' });
      const writer = new LakeWriter(context.kafka, stores, { ...config.lake, topic: config.kafka.topics.readings, onFatal: (err: Error) => context.fatal(err) }, lakeLog, engineInfo);
      registerTableMetrics(context.metrics, () => writer.openTables());
      const maintained = [READINGS_TABLE, DEAD_LETTERS_TABLE, ...(config.lake.alertsTable ? [ALERTS_TABLE] : []), ...(config.lake.commandsTable ? [COMMANDS_TABLE] : [])];
      let tables: Promise<DeltaTable[]> | undefined;
      const openTables = (): Promise<DeltaTable[]> =>
        (tables ??= Promise.all(maintained.map((table) => DeltaTable.open(storeOf(table), table, lakeLog, `${engineInfo} maintenance`))).catch((err: unknown) => {
          tables = undefined;
          throw err;
        }));
      const maintenance = new MaintenanceSchedule(openTables, config.lake.maintenance, lakeLog.child({ task: 'maintenance' }));
      const components: Component[] = [{ name: 'lake', start: () => writer.start(), stop: () => writer.stop() }];
      if (config.lake.alertsTable) {
        const alerts = new AlertsTableWriter(
          context.kafka,
          { alerts: storeOf(ALERTS_TABLE), deadLetters: stores.deadLetters },
          {
            ...config.lake,
            topic: config.alerts.topics.alerts,
            groupId: `${config.lake.groupId}-alerts`,
            sessionTimeoutMs: config.alerts.sessionTimeoutMs,
            topicCheckMs: ALERTS_TOPIC_CHECK_MS,
            onFatal: (err) => context.fatal(err),
          },
          lakeLog.child({ table: 'alerts' }),
          engineInfo,
        );
        components.push({ name: 'lake-alerts', start: () => alerts.start(), stop: () => alerts.stop() });
      }
      if (config.lake.commandsTable) {
        const audit = new CommandsLakeWriter(
          context.kafka,
          storeOf(COMMANDS_TABLE),
          { topic: config.commands.topic, groupId: `${config.lake.groupId}-commands`, appId: config.lake.appId, onFatal: (err: Error) => context.fatal(err) },
          lakeLog.child({ table: 'commands' }),
          engineInfo,
        );
        components.push(
          { name: 'commands-topic', start: () => ensureAuditTopic(context.kafka, config.commands.topic, config.kafka), stop: () => undefined },
          { name: 'lake-commands', start: () => audit.start(), stop: () => audit.stop() },
        );
      }
      components.push({ name: 'lake-maintenance', start: () => maintenance.start(), stop: () => maintenance.stop() });
      return components;
    },
  };
}
