import type { FromSchema } from 'json-schema-to-ts';
import { DEFAULT_MAX_CLOCK_SKEW_MS } from './windows.js';

/** The alerts role's settings (`alerts.*`); `roles.alerts` switches the role on. */
export const alertsConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['rulesFile', 'groupId', 'transactionalIdPrefix', 'allowedLatenessMs', 'maxClockSkewMs', 'flushIntervalMs', 'transactionTimeoutMs', 'restoreTimeoutMs', 'sessionTimeoutMs', 'topics', 'webhook', 'view'],
  properties: {
    rulesFile: { type: 'string', default: '', description: 'YAML rules file, reloaded on SIGHUP; empty: the shipped cloud/alerts/default-rules.yaml' },
    groupId: { type: 'string', minLength: 1, default: 'echolake-alerts', description: 'Kafka consumer group of the alert engines; instances in one group split the readings partitions' },
    transactionalIdPrefix: {
      type: 'string',
      minLength: 1,
      default: 'echolake-alerts',
      description: 'prefix of the per-partition transactional ids; the same on every instance and stable, so a new owner of a partition fences the old one',
    },
    allowedLatenessMs: { type: 'integer', minimum: 0, maximum: 3_600_000, default: 30_000, description: 'how long after its end a window waits for late readings (event time)' },
    maxClockSkewMs: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400_000,
      default: DEFAULT_MAX_CLOCK_SKEW_MS,
      description:
        'how far a gateway clock may be off: a reading stamped later than its receipt plus this moves no watermark and enters no window (counted); a site whose clock lags the partition by more has its windows closed by the partition',
    },
    flushIntervalMs: { type: 'integer', minimum: 20, maximum: 60_000, default: 200, description: 'how often alerts, state and offsets are committed together (bounds the close-to-alert latency)' },
    transactionTimeoutMs: { type: 'integer', minimum: 1000, maximum: 900_000, default: 10_000, description: 'Kafka transaction timeout: how long a dead instance’s open transaction can hold up a restore' },
    restoreTimeoutMs: { type: 'integer', minimum: 1000, default: 120_000, description: 'longest wait for a partition’s state to be read back from the changelog' },
    sessionTimeoutMs: { type: 'integer', minimum: 6000, maximum: 300_000, default: 30_000, description: 'Kafka group session timeout: how soon the partitions of a dead instance move' },
    topics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['alerts', 'changelog', 'silences', 'siteReadings', 'siteChangelog'],
      properties: {
        alerts: { type: 'string', minLength: 1, default: 'echolake.alerts', description: 'alert records, key = alert id (the lake writes them to the alerts table)' },
        changelog: { type: 'string', minLength: 1, default: 'echolake.alerts.state', description: 'compacted state changelog, one partition per readings partition' },
        silences: { type: 'string', minLength: 1, default: 'echolake.alerts.silences', description: 'compacted silences, read whole by every instance' },
        siteReadings: {
          type: 'string',
          minLength: 1,
          default: 'echolake.alerts.site-readings',
          description: 'what site-scoped rules need of each reading, keyed by site (the readings topic is keyed by device); kafka.partitions partitions',
        },
        siteChangelog: { type: 'string', minLength: 1, default: 'echolake.alerts.site-state', description: 'compacted state changelog of the site rules, one partition per site-stream partition' },
      },
    },
    webhook: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['url', 'groupId', 'timeoutMs', 'backoffMs', 'maxBackoffMs', 'maxAttempts'],
      properties: {
        url: { type: 'string', default: '', description: 'http(s) URL that gets every firing and resolved alert as a JSON POST; empty: no webhook' },
        groupId: { type: 'string', minLength: 1, default: 'echolake-alerts-webhook', description: 'Kafka consumer group of the webhook notifiers (one delivery per alert and state)' },
        timeoutMs: { type: 'integer', minimum: 100, maximum: 120_000, default: 5000, description: 'timeout of one POST' },
        backoffMs: { type: 'integer', minimum: 10, default: 1000, description: 'first retry delay; doubled each attempt' },
        maxBackoffMs: { type: 'integer', minimum: 10, default: 60_000, description: 'longest retry delay' },
        maxAttempts: { type: 'integer', minimum: 1, maximum: 1000, default: 20, description: 'attempts before a notification is given up (counted and logged)' },
      },
    },
    view: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['maxAlerts'],
      properties: {
        maxAlerts: { type: 'integer', minimum: 100, maximum: 1_000_000, default: 50_000, description: 'alerts the API keeps in memory (the oldest resolved go first)' },
      },
    },
  },
} as const;

export type AlertsConfig = FromSchema<typeof alertsConfigSchema>;
