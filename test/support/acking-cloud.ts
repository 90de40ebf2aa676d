import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { ackFor, encodeAck } from '../../shared/contract/envelopes.js';
import { siteTopic } from '../../shared/contract/topics.js';
import type { ReadingBatch } from '../../shared/reading.js';

/** A batch as the cloud received it. */
export interface ReceivedBatch {
  batchId: string;
  seqs: number[];
  receivedAt: number;
}

export interface AckingCloudOptions {
  protocolVersion?: 4 | 5;
  /** TLS files and credentials, for a broker that wants them. */
  connect?: IClientOptions;
  /** Off: batches are only recorded, and acknowledged when the test says so. */
  autoAck?: boolean;
}

/**
 * The cloud's half of the handshake at its plainest, for tests about the edge alone: takes each
 * batch of a site and acknowledges it, at once or when told. (The real cloud, with Kafka, is in
 * the end-to-end and fault tests.)
 */
export class AckingCloud {
  readonly received: ReceivedBatch[] = [];
  autoAck: boolean;

  private constructor(
    private readonly client: MqttClient,
    private readonly siteId: string,
    options: AckingCloudOptions,
  ) {
    this.autoAck = options.autoAck ?? true;
  }

  static async start(url: string, siteId: string, options: AckingCloudOptions = {}): Promise<AckingCloud> {
    const client = await connectAsync(url, { protocolVersion: options.protocolVersion ?? 5, ...options.connect });
    const cloud = new AckingCloud(client, siteId, options);
    client.on('message', (_topic, payload) => cloud.take(JSON.parse(String(payload)) as ReadingBatch));
    await client.subscribeAsync(siteTopic(siteId, 'readings'), { qos: 1 });
    return cloud;
  }

  get batches(): string[] {
    return this.received.map((batch) => batch.batchId);
  }

  /** Acknowledges a batch the way the real cloud does once Kafka has it. */
  ack(batch: ReceivedBatch): void {
    const lastSeq = batch.seqs[batch.seqs.length - 1] ?? 0;
    this.client.publish(siteTopic(this.siteId, 'acks'), encodeAck(ackFor(this.siteId, batch.batchId, lastSeq)), { qos: 1 });
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }

  private take(batch: ReadingBatch): void {
    const received = { batchId: batch.batchId, seqs: batch.readings.map((reading) => reading.seq), receivedAt: Date.now() };
    this.received.push(received);
    if (this.autoAck) this.ack(received);
  }
}
