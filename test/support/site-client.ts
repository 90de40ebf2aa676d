// A site as the edge behaves on the wire, for cloud tests: one batch in flight, the same batch
// again after an ack timeout, the next only after the ack. Its own seqs are the truth of what it sent.
import { connectAsync, type MqttClient } from 'mqtt';
import { encodeBatch } from '../../shared/contract/envelopes.js';
import { siteTopic } from '../../shared/contract/topics.js';
import type { BatchAck, Reading } from '../../shared/reading.js';
import { sleep } from '../services/processes.js';
import { testSecret } from './cloud-sites.js';
import { aircon } from './observations.js';

export interface SiteClientOptions {
  url: string;
  siteId: string;
  batches: number;
  perBatch: number;
  ackTimeoutMs: number;
  protocolVersion?: 4 | 5;
}

export class SiteClient {
  acked = 0;
  resends = 0;
  lastAckedSeq = 0;
  private readonly acks = new Set<string>();

  private constructor(
    private readonly client: MqttClient,
    private readonly options: SiteClientOptions,
  ) {
    client.on('message', (_topic, payload) => this.acks.add((JSON.parse(String(payload)) as BatchAck).batchId));
  }

  static async connect(options: SiteClientOptions): Promise<SiteClient> {
    const client = await connectAsync(options.url, {
      protocolVersion: options.protocolVersion ?? 5,
      clientId: `echolake-edge-${options.siteId}`,
      username: options.siteId,
      password: testSecret(options.siteId),
      clean: false,
      ...(options.protocolVersion !== 4 && { properties: { sessionExpiryInterval: 600 } }),
    });
    await client.subscribeAsync(siteTopic(options.siteId, 'acks'), { qos: 1 });
    return new SiteClient(client, options);
  }

  /** Sends every batch until acknowledged; resolves when the last one is. */
  async run(deadlineMs: number): Promise<void> {
    const { siteId, batches, perBatch, ackTimeoutMs } = this.options;
    for (let index = 0; index < batches; index += 1) {
      const first = index * perBatch + 1;
      const last = first + perBatch - 1;
      const batchId = `${first}-${last}`;
      const readings: string[] = [];
      for (let seq = first; seq <= last; seq += 1) readings.push(JSON.stringify({ v: 1, siteId, seq, ...aircon(seq % 5) } satisfies Reading));
      const payload = encodeBatch(siteId, batchId, readings);
      for (;;) {
        if (Date.now() > deadlineMs) throw new Error(`site ${siteId}: batch ${batchId} not acknowledged before the deadline`);
        this.client.publish(siteTopic(siteId, 'readings'), payload, { qos: 1 });
        const sentAt = Date.now();
        while (!this.acks.has(batchId) && Date.now() - sentAt < ackTimeoutMs) await sleep(20);
        if (this.acks.has(batchId)) break;
        this.resends += 1;
      }
      this.acked += 1;
      this.lastAckedSeq = last;
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
