import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketSizeGuard, PacketStreamError, type OversizedPacket } from '../../../../edge/uplink/packet-size-guard.js';

const LIMIT = 1024;

function remainingLength(value: number): number[] {
  const bytes: number[] = [];
  let left = value;
  do {
    let byte = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) byte |= 0x80;
    bytes.push(byte);
  } while (left > 0);
  return bytes;
}

/** A PUBLISH's fixed header and variable header (topic, packet id, MQTT 5 properties), without its payload. */
function publishHead(topic: string, qos: 0 | 1, packetId: number, payloadBytes: number, version: 4 | 5, propertyBytes = 0): Buffer {
  const topicBytes = Buffer.from(topic);
  const id = qos > 0 ? [packetId >> 8, packetId & 0xff] : [];
  const properties = version === 5 ? [...remainingLength(propertyBytes), ...Buffer.alloc(propertyBytes, 0x26)] : [];
  const variable = Buffer.from([topicBytes.length >> 8, topicBytes.length & 0xff, ...topicBytes, ...id, ...properties]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1), ...remainingLength(variable.length + payloadBytes)]), variable]);
}

function publish(topic: string, qos: 0 | 1, packetId: number, payload: Buffer, version: 4 | 5 = 4): Buffer {
  return Buffer.concat([publishHead(topic, qos, packetId, payload.length, version), payload]);
}

function guard(version: 4 | 5 = 4): { guard: PacketSizeGuard; dropped: OversizedPacket[] } {
  const dropped: OversizedPacket[] = [];
  return { guard: new PacketSizeGuard(LIMIT, version, (packet) => dropped.push(packet)), dropped };
}

/** Feeds the bytes in pieces of `size` and joins what comes out. */
function feedInPieces(target: PacketSizeGuard, bytes: Buffer, size: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...target.feed(bytes.subarray(i, i + size)));
  return Buffer.concat(out);
}

const PINGRESP = Buffer.from([0xd0, 0x00]);
const SUBACK = Buffer.from([0x90, 0x03, 0x00, 0x01, 0x01]);

test('packets within the limit pass unchanged, however the socket cuts them', () => {
  const stream = Buffer.concat([SUBACK, publish('echolake/v1/sites/a/acks', 1, 7, Buffer.from('{"v":1}')), PINGRESP, publish('t', 0, 0, Buffer.alloc(LIMIT - 6))]);
  for (const size of [1, 2, 3, 7, 64, stream.length]) {
    assert.deepEqual(feedInPieces(guard().guard, stream, size), stream, `in pieces of ${size}`);
  }
});

test('an oversized PUBLISH becomes the same PUBLISH without its payload, counted once, the packets around it untouched', () => {
  for (const version of [4, 5] as const) {
    for (const size of [1, 5, 100, 4096]) {
      const { guard: target, dropped } = guard(version);
      const big = publish('echolake/v1/sites/a/acks', 1, 0x1234, Buffer.alloc(5 * LIMIT, 0x61), version);
      const after = publish('echolake/v1/sites/a/acks', 1, 8, Buffer.from('{}'), version);
      const out = feedInPieces(target, Buffer.concat([PINGRESP, big, after]), size);
      const stub = publish('echolake/v1/sites/a/acks', 1, 0x1234, Buffer.alloc(0), version);
      assert.deepEqual(out, Buffer.concat([PINGRESP, stub, after]), `MQTT ${version}, pieces of ${size}`);
      assert.deepEqual(dropped, [{ cmd: 'publish', bytes: big.length, topic: 'echolake/v1/sites/a/acks' }]);
    }
  }
});

test('an MQTT 5 PUBLISH loses its properties with its payload (user properties can be as large as the packet)', () => {
  const { guard: target, dropped } = guard(5);
  const big = Buffer.concat([publishHead('t/acks', 1, 9, 10, 5, 3 * LIMIT), Buffer.alloc(10)]);
  const out = feedInPieces(target, big, 333);
  assert.deepEqual(out, publish('t/acks', 1, 9, Buffer.alloc(0), 5));
  assert.equal(dropped.length, 1);
});

test('a 50 MB PUBLISH streams through the guard: nothing is handed on before its end, and then only its stand-in', () => {
  const { guard: target, dropped } = guard(4);
  const payloadBytes = 50 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 0x7b);
  let handedOn = target.feed(publishHead('echolake/v1/sites/a/acks', 1, 1, payloadBytes, 4)).length;
  for (let sent = 0; sent < payloadBytes; sent += chunk.length) {
    const pieces = target.feed(chunk.subarray(0, Math.min(chunk.length, payloadBytes - sent)));
    if (sent + chunk.length < payloadBytes) handedOn += pieces.length;
    else assert.deepEqual(Buffer.concat(pieces), publish('echolake/v1/sites/a/acks', 1, 1, Buffer.alloc(0)));
  }
  assert.equal(handedOn, 0);
  assert.equal(dropped[0]?.bytes, payloadBytes + publishHead('echolake/v1/sites/a/acks', 1, 1, payloadBytes, 4).length);
});

test('an oversized packet of another kind, or broken framing, ends the connection with an error that says so', () => {
  const hugeSuback = Buffer.from([0x90, ...remainingLength(2 * LIMIT), 0x00, 0x01]);
  assert.throws(() => guard().guard.feed(hugeSuback), (err: unknown) => err instanceof PacketStreamError && /suback packet of 2051 bytes, above the limit of 1024/.test(err.message));
  assert.throws(() => guard().guard.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), /remaining length runs past four bytes/);
  const shortTopic = Buffer.from([0x32, ...remainingLength(2 * LIMIT), 0xff, 0xff]);
  assert.throws(() => guard().guard.feed(Buffer.concat([shortTopic, Buffer.alloc(2 * LIMIT - 2)])), /shorter than its own topic/);
});
