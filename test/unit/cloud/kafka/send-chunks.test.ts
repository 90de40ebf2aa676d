import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunksOfBytes, MAX_SEND_BYTES } from '../../../../cloud/kafka/send-chunks.js';

const message = (key: string, bytes: number) => ({ key, value: 'x'.repeat(bytes) });

test('many messages go in runs that each stay under the bound, in order, none lost', () => {
  const messages = Array.from({ length: 3_000 }, (_, i) => message(`k${i}`, 1_000));
  const chunks = chunksOfBytes(messages);
  assert.ok(chunks.length >= 6, `${chunks.length} chunks`);
  for (const chunk of chunks) {
    const bytes = chunk.reduce((sum, m) => sum + Buffer.byteLength(m.key as string) + Buffer.byteLength(m.value as string), 0);
    assert.ok(bytes <= MAX_SEND_BYTES, `${bytes} bytes in one send`);
  }
  assert.deepEqual(chunks.flat(), messages);
});

test('bytes count, not characters; a tombstone counts its key; one oversized message goes alone', () => {
  assert.equal(chunksOfBytes([message('a', 10), { key: 'b', value: 'é'.repeat(10) }], 25).length, 2, '20 bytes of é');
  assert.deepEqual(chunksOfBytes([{ key: 'gone', value: null }]), [[{ key: 'gone', value: null }]]);
  const big = message('big', 100);
  assert.deepEqual(chunksOfBytes([message('a', 1), big, message('c', 1)], 50), [[message('a', 1)], [big], [message('c', 1)]]);
  assert.deepEqual(chunksOfBytes([]), []);
});
