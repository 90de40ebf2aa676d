import type { AnyReading, PropertyValue } from '../../../shared/reading.js';
import type { CellValue, Column, PartitionBatch, TableDefinition } from './schema.js';

/** Where a message sat in Kafka: kept as columns so a row can be traced back to its message. */
export interface KafkaPosition {
  partition: number;
  offset: string;
}

/** What a row is made from: a reading of values or a device event (kind `event`, no values), as the contract has them. */
export type LakeReading = AnyReading;

const IDENTITY: Column[] = [
  { name: 'siteId', type: 'string', nullable: false, minMax: true },
  { name: 'seq', type: 'long', nullable: false, minMax: true },
  { name: 'deviceId', type: 'string', nullable: false, minMax: true },
  { name: 'eoj', type: 'string', nullable: false, minMax: true },
  { name: 'address', type: 'string', nullable: false, minMax: true },
  { name: 'ts', type: 'timestamp', nullable: false, minMax: true },
  { name: 'kind', type: 'string', nullable: false, minMax: true },
];

/** The properties analysts query most get typed columns; every decoded property also stays in `properties`. */
const PROPERTY_COLUMNS: Column[] = [
  { name: 'operationStatus', type: 'boolean', nullable: true, minMax: false },
  { name: 'operationMode', type: 'string', nullable: true, minMax: true },
  { name: 'targetTemperature', type: 'double', nullable: true, minMax: true },
  { name: 'roomTemperature', type: 'double', nullable: true, minMax: true },
  { name: 'humidity', type: 'double', nullable: true, minMax: true },
  { name: 'outdoorTemperature', type: 'double', nullable: true, minMax: true },
  { name: 'airFlowLevel', type: 'string', nullable: true, minMax: true },
  { name: 'instantaneousElectricPowerConsumption', type: 'double', nullable: true, minMax: true },
  { name: 'consumedCumulativeElectricEnergy', type: 'double', nullable: true, minMax: true },
  { name: 'faultStatus', type: 'boolean', nullable: true, minMax: false },
];

const LINEAGE: Column[] = [
  { name: 'properties', type: 'string', nullable: false, minMax: false },
  { name: 'raw', type: 'string', nullable: false, minMax: false },
  { name: 'kafkaPartition', type: 'integer', nullable: false, minMax: true },
  { name: 'kafkaOffset', type: 'long', nullable: false, minMax: true },
  { name: 'date', type: 'date', nullable: false, minMax: false },
];

/** Added after the first tables were written, so nullable and last: older tables gain them by schema evolution. */
const LATER: Column[] = [
  { name: 'epoch', type: 'string', nullable: true, minMax: true },
  { name: 'eventType', type: 'string', nullable: true, minMax: true },
  { name: 'eventFromAddress', type: 'string', nullable: true, minMax: true },
  { name: 'eventToAddress', type: 'string', nullable: true, minMax: true },
];

export const READINGS_TABLE: TableDefinition = {
  name: 'readings',
  columns: [...IDENTITY, ...PROPERTY_COLUMNS, ...LINEAGE, ...LATER],
  partitionColumns: ['date'],
  configuration: {
    'delta.appendOnly': 'true',
    // Without it newer writers (and optimize by Spark) default to zstd; snappy reads everywhere.
    'delta.parquet.compression.codec': 'snappy',
  },
};

/** UTC day of the reading's event time: the table's partition. */
export const readingDate = (reading: LakeReading): string => reading.ts.slice(0, 10);

/**
 * Microseconds since 1970 of a contract timestamp (`YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`): the fraction's
 * first six digits are kept (Delta timestamps are microseconds), later digits are truncated.
 */
export function timestampMicros(ts: string): bigint {
  const seconds = Date.parse(`${ts.slice(0, 19)}Z`);
  const fraction = /\.(\d+)Z$/.exec(ts)?.[1] ?? '';
  return BigInt(seconds) * 1000n + BigInt(fraction.slice(0, 6).padEnd(6, '0'));
}

/** One batch per date, column by column, in the order the readings came. */
export function readingBatches(readings: Array<{ reading: LakeReading; position: KafkaPosition }>): PartitionBatch[] {
  const byDate = new Map<string, Array<{ reading: LakeReading; position: KafkaPosition }>>();
  for (const entry of readings) {
    const date = readingDate(entry.reading);
    const group = byDate.get(date);
    if (group === undefined) byDate.set(date, [entry]);
    else group.push(entry);
  }
  return [...byDate].map(([date, group]) => ({ partitionValues: { date }, batch: { length: group.length, columns: readingColumns(group) } }));
}

function readingColumns(group: Array<{ reading: LakeReading; position: KafkaPosition }>): Record<string, CellValue[]> {
  const columns: Record<string, CellValue[]> = {};
  for (const column of READINGS_TABLE.columns) columns[column.name] = new Array<CellValue>(group.length);
  const cell = (name: string): CellValue[] => columns[name] as CellValue[];
  for (const [i, { reading, position }] of group.entries()) {
    cell('siteId')[i] = reading.siteId;
    cell('seq')[i] = BigInt(reading.seq);
    cell('deviceId')[i] = reading.deviceId;
    cell('eoj')[i] = reading.eoj;
    cell('address')[i] = reading.address;
    cell('ts')[i] = timestampMicros(reading.ts);
    cell('kind')[i] = reading.kind;
    // An event carries no values: its property columns are null, `properties` and `raw` empty.
    const { properties, raw }: { properties: Readonly<Record<string, PropertyValue>>; raw: Readonly<Record<string, string>> } =
      reading.kind === 'event' ? { properties: {}, raw: {} } : reading;
    for (const column of PROPERTY_COLUMNS) cell(column.name)[i] = typedValue(column, properties[column.name]);
    cell('properties')[i] = JSON.stringify(properties);
    cell('raw')[i] = JSON.stringify(raw);
    cell('kafkaPartition')[i] = position.partition;
    cell('kafkaOffset')[i] = BigInt(position.offset);
    cell("date")[i] = null;
    cell('epoch')[i] = reading.epoch ?? null;
    const event = reading.kind === 'event' ? reading.event : undefined;
    cell('eventType')[i] = event?.type ?? null;
    cell('eventFromAddress')[i] = event?.fromAddress ?? null;
    cell('eventToAddress')[i] = event?.toAddress ?? null;
  }
  return columns;
}

/** A value of the wrong type for its column (a quirky device) stays in `properties` and is null here. */
function typedValue(column: Column, value: PropertyValue | undefined): CellValue {
  if (value === undefined || value === null) return null;
  switch (column.type) {
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'double':
      return typeof value === 'number' && Number.isFinite(value) ? value : null;
    case 'string':
      return String(value);
    default:
      return null;
  }
}
