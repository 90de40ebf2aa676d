/** Transport behaviour against hand-driven peer sockets on loopback. */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { afterEach, test } from 'node:test';
import { CONTROLLER_EOJ, NODE_PROFILE_EOJ, makeEoj } from '../../edge/echonet/eoj.js';
import { ESV } from '../../edge/echonet/esv.js';
import { type Frame, decodeFrame, encodeFrame, requestedEpcs } from '../../edge/echonet/frame.js';
import { EchonetRequestError, EchonetTransport } from '../../edge/echonet/transport.js';
import { INTERFACE, logger, onFreePort, stopAfterTest, stopOpened } from '../support/echonet-rig.js';
import { waitFor } from '../support/wait.js';

const AIRCON = makeEoj(0x01, 0x30, 0x01);
afterEach(stopOpened);

function openTransport(): Promise<{ transport: EchonetTransport; port: number }> {
  return onFreePort(async (port) => {
    const transport = new EchonetTransport({ interfaceAddress: INTERFACE, port, logger });
    try {
      await transport.open();
    } catch (error) {
      await transport.close();
      throw error;
    }
    stopAfterTest(() => transport.close());
    return { transport, port };
  });
}

/** A peer socket on its own loopback address that hands every received frame to `onRequest`. */
async function peer(address: string, port: number, onRequest: (frame: Frame, socket: dgram.Socket) => void): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: 'udp4' });
  await new Promise<void>((resolve) => socket.bind({ address, port }, resolve));
  socket.on('message', (message) => {
    const decoded = decodeFrame(message);
    if (decoded.ok) onRequest(decoded.value, socket);
  });
  stopAfterTest(() => new Promise((resolve) => socket.close(() => resolve())));
  return socket;
}

const getResFrame = (request: Frame): Frame => ({ tid: request.tid, seoj: request.deoj, deoj: request.seoj, esv: ESV.GetRes, properties: [{ epc: 0x80, edt: Uint8Array.of(0x30) }] });
const getRes = (request: Frame): Buffer => encodeFrame(getResFrame(request));
const get = { seoj: CONTROLLER_EOJ, deoj: AIRCON, esv: ESV.Get, properties: requestedEpcs([0x80]) } as const;

test('matches answers by TID and address', async () => {
  const { transport, port } = await openTransport();
  await peer('127.0.0.7', port, (request, socket) => socket.send(getRes(request), port, INTERFACE));
  const answer = await transport.request('127.0.0.7', get, 500);
  assert.equal(answer.address, '127.0.0.7');
  assert.equal(answer.frame.esv, ESV.GetRes);
  assert.equal(transport.counters.responsesMatched, 1);
});

test('a late answer is counted and dropped', async () => {
  const { transport, port } = await openTransport();
  await peer('127.0.0.7', port, (request, socket) => setTimeout(() => socket.send(getRes(request), port, INTERFACE), 150));
  await assert.rejects(transport.request('127.0.0.7', get, 50), (error: unknown) => error instanceof EchonetRequestError && error.code === 'TIMEOUT');
  await waitFor('late response counted', () => transport.counters.lateResponses === 1);
  assert.equal(transport.counters.requestTimeouts, 1);
});

test('an answer from an address we did not ask is counted and dropped', async () => {
  const { transport, port } = await openTransport();
  const impostor = await peer('127.0.0.8', port, () => undefined);
  await peer('127.0.0.7', port, (request) => impostor.send(getRes(request), port, INTERFACE));
  await assert.rejects(transport.request('127.0.0.7', get, 200), /no answer/);
  assert.equal(transport.counters.responsesFromUnexpectedAddress, 1);
});

test('responses for no request are dropped; INF reaches listeners', async () => {
  const { transport, port } = await openTransport();
  const seen: Frame[] = [];
  transport.onFrame((received) => seen.push(received.frame));
  const socket = await peer('127.0.0.7', port, () => undefined);
  socket.send(encodeFrame({ tid: 999, seoj: AIRCON, deoj: CONTROLLER_EOJ, esv: ESV.GetRes, properties: [{ epc: 0x80, edt: Uint8Array.of(0x30) }] }), port, INTERFACE);
  socket.send(encodeFrame({ tid: 5, seoj: AIRCON, deoj: NODE_PROFILE_EOJ, esv: ESV.Inf, properties: [{ epc: 0x80, edt: Uint8Array.of(0x31) }] }), port, INTERFACE);
  await waitFor('INF delivered', () => seen.length === 1);
  assert.equal(seen[0]?.esv, ESV.Inf);
  assert.equal(transport.counters.unmatchedResponses, 1);
});

test('our own multicast is heard on the group socket and dropped', async () => {
  const { transport } = await openTransport();
  const seen: Frame[] = [];
  transport.onFrame((received) => seen.push(received.frame));
  await transport.sendMulticast({ tid: 1, seoj: CONTROLLER_EOJ, deoj: NODE_PROFILE_EOJ, esv: ESV.Inf, properties: [{ epc: 0x80, edt: Uint8Array.of(0x30) }] });
  await waitFor('own frame dropped', () => transport.counters.ownFramesDropped === 1);
  assert.equal(seen.length, 0);
});

/** Another ECHONET endpoint on its own address, in the group like a node: answers every Get to its node profile. */
async function answeringNode(address: string, port: number, heardVia: string[]): Promise<void> {
  const node = new EchonetTransport({ interfaceAddress: address, multicastInterface: INTERFACE, port, logger });
  node.onFrame((received) => {
    heardVia.push(received.via);
    void node.send(received.address, getResFrame(received.frame));
  });
  await node.open();
  stopAfterTest(() => node.close());
}

const search = { seoj: CONTROLLER_EOJ, deoj: NODE_PROFILE_EOJ, esv: ESV.Get, properties: requestedEpcs([0xd6]) } as const;

test('a multicast request collects every answer and ends once answers stop coming', async () => {
  const { transport, port } = await openTransport();
  const heardVia: string[] = [];
  await answeringNode('127.0.0.7', port, heardVia);
  await answeringNode('127.0.0.8', port, heardVia);
  const started = Date.now();
  const answers = await transport.multicastRequest(search, { windowMs: 10_000, quietMs: 200 });
  assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
  assert.deepEqual(answers.map((a) => a.address).sort(), ['127.0.0.7', '127.0.0.8']);
  assert.deepEqual(answers.map((a) => a.via), ['unicast', 'unicast'], 'answers come to our own address');
  assert.deepEqual(heardVia, ['multicast', 'multicast'], 'the nodes heard the request on the group');
});

test('a multicast request nobody answers ends after the quiet spell, or the window if shorter', async () => {
  const { transport } = await openTransport();
  let started = Date.now();
  assert.deepEqual(await transport.multicastRequest(search, { windowMs: 10_000, quietMs: 100 }), []);
  assert.ok(Date.now() - started < 1_000);
  started = Date.now();
  assert.deepEqual(await transport.multicastRequest(search, { windowMs: 100 }), []);
  assert.ok(Date.now() - started < 1_000);
});

test('close() rejects pending requests at once', async () => {
  const { transport, port } = await openTransport();
  await peer('127.0.0.7', port, () => undefined);
  const pending = transport.request('127.0.0.7', get, 10_000);
  await transport.close();
  await assert.rejects(pending, (error: unknown) => error instanceof EchonetRequestError && error.code === 'CLOSED');
  await assert.rejects(transport.request('127.0.0.7', get, 100), (error: unknown) => error instanceof EchonetRequestError && error.code === 'CLOSED');
});

test('the interface must be named by its own address: nothing and 0.0.0.0 would let the routing table choose it', () => {
  for (const address of ['', '0.0.0.0', 'eth0']) {
    assert.throws(() => new EchonetTransport({ interfaceAddress: address, logger }), new RegExp(`^RangeError: interfaceAddress must be this host's own IPv4 address .*got "${address}"`));
    assert.throws(() => new EchonetTransport({ interfaceAddress: '127.0.0.5', multicastInterface: address, logger }), /^RangeError: multicastInterface must be/);
  }
});
