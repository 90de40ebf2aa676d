/**
 * The one producer interface the cloud writes through, so the Kafka client is a setting
 * (`kafka.producer.client`), not a dependency of the ingest. Every implementation is idempotent,
 * waits for acks=all, partitions by murmur2 of the key as Java clients do (a device keeps its
 * partition whichever client wrote it) and compresses as `kafka.producer.compression` says.
 */
export interface ProducedRecord {
  key: string;
  value: string | Buffer;
  headers: Record<string, string>;
}

/** Where a send landed: per partition, the first offset written. */
export type Placement = Array<{ partition: number; baseOffset: string }>;

export interface KafkaProducer {
  connect(): Promise<void>;
  /** Resolves once Kafka acknowledged every record (acks=all); rejects if any was not written. */
  send(topic: string, records: readonly ProducedRecord[]): Promise<Placement>;
  disconnect(): Promise<void>;
}

export type KafkaClientName = 'kafkajs' | 'platformatic';
export type ProducerCompression = 'none' | 'gzip' | 'snappy' | 'lz4';
