import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from 'mqtt-packet';
import { PacketSizeGuard } from '../../../../cloud/broker/packet-size-guard.js';

const publish = (bytes: number): Buffer =>
  generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(bytes), qos: 1, messageId: 1, retain: false, dup: false });

test('packets under the limit pass, split across chunks at any byte', () => {
  const stream = Buffer.concat([publish(10), publish(200), publish(1000), generate({ cmd: 'pingreq' })]);
  for (const chunkSize of [1, 2, 3, 7, 64, stream.length]) {
    const guard = new PacketSizeGuard(2048);
    for (let offset = 0; offset < stream.length; offset += chunkSize) {
      assert.equal(guard.feed(stream.subarray(offset, offset + chunkSize)), undefined, `chunk size ${chunkSize}`);
    }
  }
});

test('a packet over the limit is reported from its header, before its body arrives', () => {
  const big = publish(50_000);
  const guard = new PacketSizeGuard(4096);
  assert.equal(guard.feed(publish(100)), undefined);
  const announced = guard.feed(big.subarray(0, 5));
  assert.equal(announced, big.length);
});

test('a remaining length longer than four bytes is malformed', () => {
  const guard = new PacketSizeGuard(4096);
  assert.equal(guard.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), -1);
});
