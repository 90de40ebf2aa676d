import type { KafkaPosition } from './readings.js';
import type { CellValue, PartitionBatch, TableDefinition } from './schema.js';

/** What the lake could not put into the readings table, kept with its bytes so nothing is only a log line. */
export interface DeadLetter {
  topic: string;
  position: KafkaPosition;
  reason: string;
  value: Buffer;
  siteId: string | null;
  receivedAtMs: number;
}

export const DEAD_LETTERS_TABLE: TableDefinition = {
  name: 'dead_letters',
  columns: [
    { name: 'topic', type: 'string', nullable: false, minMax: true },
    { name: 'kafkaPartition', type: 'integer', nullable: false, minMax: true },
    { name: 'kafkaOffset', type: 'long', nullable: false, minMax: true },
    { name: 'reason', type: 'string', nullable: false, minMax: false },
    { name: 'siteId', type: 'string', nullable: true, minMax: true },
    { name: 'value', type: 'binary', nullable: false, minMax: false },
    { name: 'receivedAt', type: 'timestamp', nullable: false, minMax: true },
    { name: 'date', type: 'date', nullable: false, minMax: false },
  ],
  partitionColumns: ['date'],
  configuration: { 'delta.appendOnly': 'true', 'delta.parquet.compression.codec': 'snappy' },
};

export function deadLetterBatches(letters: DeadLetter[]): PartitionBatch[] {
  const byDate = new Map<string, DeadLetter[]>();
  for (const letter of letters) {
    const date = new Date(letter.receivedAtMs).toISOString().slice(0, 10);
    byDate.set(date, [...(byDate.get(date) ?? []), letter]);
  }
  return [...byDate].map(([date, group]) => {
    const column = (pick: (letter: DeadLetter) => CellValue): CellValue[] => group.map(pick);
    return {
      partitionValues: { date },
      batch: {
        length: group.length,
        columns: {
          topic: column((l) => l.topic),
          kafkaPartition: column((l) => l.position.partition),
          kafkaOffset: column((l) => BigInt(l.position.offset)),
          reason: column((l) => l.reason),
          siteId: column((l) => l.siteId),
          value: column((l) => new Uint8Array(l.value)),
          receivedAt: column((l) => BigInt(l.receivedAtMs) * 1000n),
          date: column(() => null),
        },
      },
    };
  });
}
