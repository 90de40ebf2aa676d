import type { AuditEvent } from '../../commands/ledger.js';
import type { KafkaPosition } from './readings.js';
import type { CellValue, PartitionBatch, TableDefinition } from './schema.js';

/** One audit record as the lake takes it from the commands topic. */
export interface AuditRecord {
  position: KafkaPosition;
  event: AuditEvent;
}

/**
 * The commands audit as a table: one row per event (a command created, its publication to a site,
 * every result from a site or unit), with the event's JSON whole in `detail`; partitioned by the
 * event's UTC date.
 */
export const COMMANDS_TABLE: TableDefinition = {
  name: 'commands',
  columns: [
    { name: 'commandId', type: 'string', nullable: false, minMax: true },
    { name: 'type', type: 'string', nullable: false, minMax: true },
    { name: 'at', type: 'timestamp', nullable: false, minMax: true },
    { name: 'author', type: 'string', nullable: true, minMax: true },
    { name: 'siteId', type: 'string', nullable: true, minMax: true },
    { name: 'deviceId', type: 'string', nullable: true, minMax: true },
    { name: 'state', type: 'string', nullable: true, minMax: true },
    { name: 'reason', type: 'string', nullable: true, minMax: false },
    { name: 'detail', type: 'string', nullable: false, minMax: false },
    { name: 'kafkaPartition', type: 'integer', nullable: false, minMax: true },
    { name: 'kafkaOffset', type: 'long', nullable: false, minMax: true },
    { name: 'date', type: 'date', nullable: false, minMax: false },
  ],
  partitionColumns: ['date'],
  configuration: { 'delta.appendOnly': 'true', 'delta.parquet.compression.codec': 'snappy' },
};

interface Row {
  commandId: string;
  type: string;
  atMs: number;
  author: string | null;
  siteId: string | null;
  deviceId: string | null;
  state: string | null;
  reason: string | null;
  detail: string;
  position: KafkaPosition;
}

function rowOf({ event, position }: AuditRecord): Row {
  const base = { type: event.type, atMs: Date.parse(event.at), detail: JSON.stringify(event), position };
  if (event.type === 'created') {
    return { ...base, commandId: event.command.commandId, author: event.command.author, siteId: null, deviceId: null, state: 'pending', reason: event.command.reason };
  }
  if (event.type === 'published') return { ...base, commandId: event.commandId, author: null, siteId: event.siteId, deviceId: null, state: null, reason: null };
  const { result } = event;
  return { ...base, commandId: result.commandId, author: null, siteId: result.siteId, deviceId: result.deviceId ?? null, state: result.state, reason: result.reason ?? null };
}

export function commandBatches(records: AuditRecord[]): PartitionBatch[] {
  const byDate = new Map<string, Row[]>();
  for (const row of records.map(rowOf)) {
    const date = new Date(row.atMs).toISOString().slice(0, 10);
    byDate.set(date, [...(byDate.get(date) ?? []), row]);
  }
  return [...byDate].map(([date, rows]) => {
    const column = (pick: (row: Row) => CellValue): CellValue[] => rows.map(pick);
    return {
      partitionValues: { date },
      batch: {
        length: rows.length,
        columns: {
          commandId: column((r) => r.commandId),
          type: column((r) => r.type),
          at: column((r) => BigInt(r.atMs) * 1000n),
          author: column((r) => r.author),
          siteId: column((r) => r.siteId),
          deviceId: column((r) => r.deviceId),
          state: column((r) => r.state),
          reason: column((r) => r.reason),
          detail: column((r) => r.detail),
          kafkaPartition: column((r) => r.position.partition),
          kafkaOffset: column((r) => BigInt(r.position.offset)),
          date: column(() => null),
        },
      },
    };
  });
}
