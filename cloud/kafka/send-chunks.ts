import type { Message } from 'kafkajs';

/**
 * kafkajs sends the messages of one call for one partition as one record batch, and Kafka refuses
 * a batch over its `message.max.bytes` (about 1 MB by default) outright. Anything that may send
 * many messages at once (a partition's changed state after a backlog) goes in calls of at most
 * this many bytes of keys and values.
 */
export const MAX_SEND_BYTES = 512 * 1024;

/** The messages in order, cut into runs of at most `maxBytes` (a single larger message goes alone). */
export function chunksOfBytes(messages: readonly Message[], maxBytes = MAX_SEND_BYTES): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = byteLength(message.key) + byteLength(message.value);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function byteLength(value: Message['key'] | Message['value']): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
