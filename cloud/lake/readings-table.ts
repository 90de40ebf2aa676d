import type { PropertyValue, Reading } from '../../shared/reading.js';
import type { Column, Row, TableSchema } from './table-schema.js';

/** Where a reading sat in Kafka: kept as columns so a row can be traced back to its message. */
export interface KafkaPosition {
  partition: number;
  offset: string;
}

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

export const READINGS_TABLE: TableSchema = {
  columns: [...IDENTITY, ...PROPERTY_COLUMNS, ...LINEAGE],
  partitionColumns: ['date'],
};

/** UTC day of the reading's event time: the table's partition. */
export function readingDate(reading: Reading): string {
  return reading.ts.slice(0, 10);
}

export function readingRow(reading: Reading, position: KafkaPosition): Row {
  const row: Row = {
    siteId: reading.siteId,
    seq: reading.seq,
    deviceId: reading.deviceId,
    eoj: reading.eoj,
    address: reading.address,
    ts: new Date(reading.ts),
    kind: reading.kind,
    properties: JSON.stringify(reading.properties),
    raw: JSON.stringify(reading.raw),
    kafkaPartition: position.partition,
    kafkaOffset: Number(position.offset),
    date: readingDate(reading),
  };
  for (const column of PROPERTY_COLUMNS) row[column.name] = typedValue(column, reading.properties[column.name]);
  return row;
}

/** A value of the wrong type for its column (a quirky device) stays in `properties` and is null here. */
function typedValue(column: Column, value: PropertyValue | undefined): string | number | boolean | null {
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
