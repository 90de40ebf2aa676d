import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../shared/config.js';
import type { Component } from '../../shared/lifecycle.js';
import type { Alert } from '../alerts/alert.js';
import type { AlertsConfig } from '../alerts/config.js';
import { AlertMetrics } from '../alerts/metrics.js';
import { AlertPartitions } from '../alerts/partitions.js';
import { alertRoutes } from '../alerts/routes.js';
import { loadRulesFile, RulesError, type Rule } from '../alerts/rules.js';
import { Silences } from '../alerts/silences.js';
import { SilencesTopic } from '../alerts/silences-topic.js';
import { ensureAlertTopics } from '../alerts/topics.js';
import { AlertView } from '../alerts/view.js';
import { WebhookNotifier } from '../alerts/webhook.js';
import type { CloudContext } from '../context.js';
import { operatorAuth } from '../http/auth.js';
import { PartitionedConsumer } from '../kafka/consumer.js';
import { TopicFollower } from '../kafka/follower.js';
import type { Role } from './role.js';

/** The rules shipped with the code, used when `alerts.rulesFile` is empty. */
export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../alerts/default-rules.yaml', import.meta.url));

/** Alerts from the readings by the rules file: the engine, the alerts topic, the webhook, the API. */
export function alertsRole(): Role {
  let parts: { view: AlertView; silences: Silences; silencesTopic: SilencesTopic } | undefined;
  return {
    name: 'alerts',
    enabled: (config) => config.roles.alerts,
    components(context: CloudContext): Component[] {
      const { config, kafka } = context;
      const settings = config.alerts;
      const log = context.log.child({ part: 'alerts' });
      const rulesFile = settings.rulesFile === '' ? DEFAULT_RULES_FILE : settings.rulesFile;
      const metrics = new AlertMetrics(context.metrics);
      const topics = { readings: config.kafka.topics.readings, ...settings.topics };
      // Device rules run on the readings topic (keyed by device); site rules on the site stream those engines fill (keyed by site).
      const engines = (['devices', 'sites'] as const).map((mode) => {
        const input = mode === 'devices' ? topics.readings : topics.siteReadings;
        const groupId = mode === 'devices' ? settings.groupId : `${settings.groupId}-sites`;
        const partitions = new AlertPartitions(
          kafka,
          {
            topics: { input, alerts: topics.alerts, changelog: mode === 'devices' ? topics.changelog : topics.siteChangelog },
            mode,
            siteStream: topics.siteReadings,
            groupId,
            transactionalIdPrefix: settings.transactionalIdPrefix,
            transactionTimeoutMs: settings.transactionTimeoutMs,
            allowedLatenessMs: settings.allowedLatenessMs,
            maxClockSkewMs: settings.maxClockSkewMs,
            restoreTimeoutMs: settings.restoreTimeoutMs,
          },
          [],
          context.sites,
          metrics,
          log.child({ engine: mode }),
        );
        const consumer = new PartitionedConsumer(
          kafka,
          { groupId, topic: input, flushIntervalMs: settings.flushIntervalMs, sessionTimeoutMs: settings.sessionTimeoutMs, fromBeginning: true, onFatal: (err) => context.fatal(err) },
          partitions,
          log.child({ engine: mode }),
        );
        return { partitions, consumer };
      });
      const setRules = (rules: Rule[]): void => engines.forEach(({ partitions }) => partitions.setRules(rules));
      const silences = new Silences();
      const silencesTopic = new SilencesTopic(kafka, topics.silences, silences, `${settings.groupId}-silences`, log);
      const view = new AlertView(settings.view.maxAlerts);
      const follower = new TopicFollower(kafka, { topic: topics.alerts, groupPrefix: `${settings.groupId}-view` }, (message) => {
        if (message.value !== null) view.apply(JSON.parse(message.value.toString()) as Alert);
      });
      parts = { view, silences, silencesTopic };
      const reload = (): void => {
        try {
          setRules(loadRulesFile(rulesFile));
          log.info({ rulesFile }, 'alert rules reloaded');
        } catch (err) {
          log.error({ rulesFile, err }, 'alert rules not reloaded: the file has problems; the previous rules stay');
        }
      };
      let running = false;
      context.readiness('alerts', () => running);
      const components: Component[] = [
        {
          name: 'alerts-rules',
          start: () => {
            setRules(startRules(rulesFile));
            process.on('SIGHUP', reload);
          },
          stop: () => void process.off('SIGHUP', reload),
        },
        { name: 'alerts-topics', start: () => ensureAlertTopics(kafka, topics, config.kafka), stop: () => undefined },
        { name: 'alerts-silences', start: () => silencesTopic.start(), stop: () => silencesTopic.stop() },
        { name: 'alerts-view', start: () => follower.start(), stop: () => follower.stop() },
        {
          name: 'alerts-engine',
          start: async () => {
            for (const { consumer } of engines) await consumer.start();
            running = true;
            log.info({ rulesFile, readings: topics.readings, alerts: topics.alerts }, 'alert engine started');
          },
          stop: async () => {
            running = false;
            for (const { consumer } of [...engines].reverse()) await consumer.stop();
          },
        },
      ];
      if (settings.webhook.url !== '') components.push(webhookComponent(context, settings, silences, metrics));
      return components;
    },
    routes(app, context) {
      if (parts === undefined) throw new Error('the alerts role adds its routes after its components');
      void app.register(alertRoutes, { ...parts, operatorAuth: operatorAuth(context.config.api.operators) });
    },
  };
}

/** Rules at start: a file with problems stops the start as a configuration error naming each one. */
function startRules(file: string): Rule[] {
  try {
    return loadRulesFile(file);
  } catch (err) {
    if (err instanceof RulesError) throw new ConfigError(err.problems.map((problem) => `alerts.rulesFile ${err.source}: ${problem}`));
    throw err;
  }
}

function webhookComponent(context: CloudContext, settings: AlertsConfig, silences: Silences, metrics: AlertMetrics): Component {
  const notifier = new WebhookNotifier(context.kafka, { ...settings.webhook, topic: settings.topics.alerts, sessionTimeoutMs: settings.sessionTimeoutMs, onFatal: (err) => context.fatal(err) }, silences, metrics, context.log.child({ part: 'alerts-webhook' }));
  return { name: 'alerts-webhook', start: () => notifier.start(), stop: () => notifier.stop() };
}
