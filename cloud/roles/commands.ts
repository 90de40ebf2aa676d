import type { Component } from '../../shared/lifecycle.js';
import { ensureAuditTopic } from '../commands/audit-topic.js';
import { CommandsService } from '../commands/commands-service.js';
import { CommandLedger } from '../commands/ledger.js';
import { commandRoutes } from '../commands/routes.js';
import type { CloudContext } from '../context.js';
import { operatorAuth } from '../http/auth.js';
import type { Role } from './role.js';

/** Commands to the sites' air conditioners: the API, delivery over MQTT, results back, the audit in Kafka. */
export function commandsRole(): Role {
  let service: CommandsService | undefined;
  return {
    name: 'commands',
    enabled: (config) => config.roles.commands,
    components(context: CloudContext): Component[] {
      const { config, log } = context;
      const created = new CommandsService({
        config: config.commands,
        mqtt: config.mqtt,
        credentials: context.cloudMqtt,
        kafka: context.kafka,
        ledger: new CommandLedger(config.commands.keepCommands),
        metrics: context.metrics,
        log: log.child({ part: 'commands' }),
      });
      service = created;
      context.readiness('commands-mqtt', () => created.connected);
      return [
        { name: 'commands-topic', start: () => ensureAuditTopic(context.kafka, config.commands.topic, config.kafka), stop: () => undefined },
        { name: 'commands', start: () => created.start(), stop: () => created.stop() },
      ];
    },
    routes(app, context) {
      if (service === undefined) throw new Error('the commands role adds its routes after its components');
      const { maxWindowMinutes, maxSitesPerCommand } = context.config.commands;
      void app.register(commandRoutes, { service, sites: context.sites, limits: { maxWindowMinutes, maxSitesPerCommand }, operatorAuth: operatorAuth(context.config.api.operators) });
    },
  };
}
