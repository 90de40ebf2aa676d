import { connectAsync, type MqttClient } from 'mqtt';
import { READING_SCHEMA_VERSION, acksTopic, readingsTopic, type ReadingBatch } from '../../shared/reading.js';

/**
 * The cloud's half of the handshake at its plainest, for tests about the edge alone: takes each
 * batch of a site and acknowledges it at once. (The real cloud, with Kafka, is in the end-to-end
 * and fault tests.)
 */
export class AckingCloud {
  readonly batches: string[] = [];

  private constructor(private readonly client: MqttClient) {}

  static async start(url: string, siteId: string, protocolVersion: 4 | 5 = 5): Promise<AckingCloud> {
    const client = await connectAsync(url, { protocolVersion });
    const cloud = new AckingCloud(client);
    client.on('message', (_topic, payload) => {
      const batch = JSON.parse(String(payload)) as ReadingBatch;
      cloud.batches.push(batch.batchId);
      const lastSeq = batch.readings[batch.readings.length - 1]?.seq ?? 0;
      client.publish(acksTopic(siteId), JSON.stringify({ v: READING_SCHEMA_VERSION, siteId, batchId: batch.batchId, lastSeq }), { qos: 1 });
    });
    await client.subscribeAsync(readingsTopic(siteId), { qos: 1 });
    return cloud;
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }
}
