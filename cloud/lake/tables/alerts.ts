import type { Alert } from '../../alerts/alert.js';
import { timestampMicros, type KafkaPosition } from './readings.js';
import type { CellValue, PartitionBatch, TableDefinition } from './schema.js';

/** An alert record of the alerts topic and where it sat there. */
export interface AlertRow {
  alert: Alert;
  position: KafkaPosition;
}

/**
 * The `alerts` table: one row per record of the alerts topic (a firing and, later, a resolved row
 * with the same id), columns from `alertSchema`. `value` and `threshold` are mixed in the record
 * (a number, a string such as a mode, a boolean such as a fault status): the number goes into the
 * double column, and the exact value as JSON into the `…Json` column, so nothing is lost.
 */
export const ALERTS_TABLE: TableDefinition = {
  name: 'alerts',
  columns: [
    { name: 'id', type: 'string', nullable: false, minMax: true },
    { name: 'state', type: 'string', nullable: false, minMax: true },
    { name: 'rule', type: 'string', nullable: false, minMax: true },
    { name: 'ruleType', type: 'string', nullable: false, minMax: true },
    { name: 'severity', type: 'string', nullable: false, minMax: true },
    { name: 'summary', type: 'string', nullable: false, minMax: false },
    { name: 'scope', type: 'string', nullable: false, minMax: true },
    { name: 'siteId', type: 'string', nullable: false, minMax: true },
    { name: 'deviceId', type: 'string', nullable: true, minMax: true },
    { name: 'siteName', type: 'string', nullable: false, minMax: false },
    { name: 'siteTimeZone', type: 'string', nullable: false, minMax: false },
    { name: 'latitude', type: 'double', nullable: true, minMax: true },
    { name: 'longitude', type: 'double', nullable: true, minMax: true },
    { name: 'cause', type: 'string', nullable: false, minMax: true },
    { name: 'startsAt', type: 'timestamp', nullable: false, minMax: true },
    { name: 'endsAt', type: 'timestamp', nullable: true, minMax: true },
    { name: 'windowStart', type: 'timestamp', nullable: true, minMax: true },
    { name: 'windowEnd', type: 'timestamp', nullable: true, minMax: true },
    { name: 'value', type: 'double', nullable: true, minMax: true },
    { name: 'valueJson', type: 'string', nullable: false, minMax: false },
    { name: 'threshold', type: 'double', nullable: true, minMax: true },
    { name: 'thresholdJson', type: 'string', nullable: false, minMax: false },
    { name: 'kafkaPartition', type: 'integer', nullable: false, minMax: true },
    { name: 'kafkaOffset', type: 'long', nullable: false, minMax: true },
    { name: 'date', type: 'date', nullable: false, minMax: false },
  ],
  // The UTC day the episode started: an incident's firing and resolved rows share it, however long it lasted.
  partitionColumns: ['date'],
  configuration: { 'delta.appendOnly': 'true', 'delta.parquet.compression.codec': 'snappy' },
};

/** One batch per date of `startsAt`, column by column, in the order the records came. */
export function alertBatches(rows: AlertRow[]): PartitionBatch[] {
  const byDate = new Map<string, AlertRow[]>();
  for (const row of rows) {
    const date = row.alert.startsAt.slice(0, 10);
    const group = byDate.get(date);
    if (group === undefined) byDate.set(date, [row]);
    else group.push(row);
  }
  return [...byDate].map(([date, group]) => ({ partitionValues: { date }, batch: { length: group.length, columns: alertColumns(group) } }));
}

function alertColumns(group: AlertRow[]): Record<string, CellValue[]> {
  const column = (pick: (alert: Alert) => CellValue): CellValue[] => group.map(({ alert }) => pick(alert));
  const instant = (ts: string | null): CellValue => (ts === null ? null : timestampMicros(ts));
  return {
    id: column((a) => a.id),
    state: column((a) => a.state),
    rule: column((a) => a.rule),
    ruleType: column((a) => a.ruleType),
    severity: column((a) => a.severity),
    summary: column((a) => a.summary),
    scope: column((a) => a.scope),
    siteId: column((a) => a.siteId),
    deviceId: column((a) => a.deviceId),
    siteName: column((a) => a.site.name),
    siteTimeZone: column((a) => a.site.timeZone),
    latitude: column((a) => a.site.location?.latitude ?? null),
    longitude: column((a) => a.site.location?.longitude ?? null),
    cause: column((a) => a.cause),
    startsAt: column((a) => timestampMicros(a.startsAt)),
    endsAt: column((a) => instant(a.endsAt)),
    windowStart: column((a) => instant(a.windowStart)),
    windowEnd: column((a) => instant(a.windowEnd)),
    value: column((a) => finiteNumber(a.value)),
    valueJson: column((a) => JSON.stringify(a.value)),
    threshold: column((a) => finiteNumber(a.threshold)),
    thresholdJson: column((a) => JSON.stringify(a.threshold)),
    kafkaPartition: group.map(({ position }) => position.partition),
    kafkaOffset: group.map(({ position }) => BigInt(position.offset)),
    date: group.map(() => null),
  };
}

const finiteNumber = (value: Alert['value']): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
