/** The gateway's own node: what it answers when devices or other controllers ask it. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONTROLLER_EOJ, NODE_PROFILE_EOJ, makeEoj } from '../../../../edge/echonet/eoj.js';
import { ESV } from '../../../../edge/echonet/esv.js';
import { type Frame, allProperties, requestedEpcs } from '../../../../edge/echonet/frame.js';
import { createOwnNode, derivedIdentificationNumber } from '../../../../edge/echonet/own-node.js';
import { decodeProperties } from '../../../../edge/echonet/properties.js';

const NODE_ID = 'feffffff0102030405060708090a0b0c0d';
const REQUESTER = makeEoj(0x01, 0x30, 0x01);
const own = createOwnNode({ nodeId: NODE_ID, makerCode: 'ffffff' });

function get(deoj: typeof REQUESTER, ...epcs: number[]): Frame {
  return { tid: 7, seoj: REQUESTER, deoj, esv: ESV.Get, properties: requestedEpcs(epcs) };
}

describe("the controller's own node", () => {
  test('answers every Get-required node profile property', () => {
    const [reply, ...more] = own.node.handle(get(NODE_PROFILE_EOJ, 0x80, 0x82, 0x83, 0x8a, 0x9d, 0x9e, 0x9f, 0xd3, 0xd4, 0xd6, 0xd7)).unicast;
    assert.ok(reply);
    assert.equal(more.length, 0);
    assert.equal(reply.esv, ESV.GetRes);
    assert.equal(reply.tid, 7);
    assert.deepEqual(reply.deoj, REQUESTER);
    const { properties } = decodeProperties(NODE_PROFILE_EOJ, allProperties(reply));
    assert.deepEqual(properties, {
      operatingStatus: true,
      version: '1.13',
      id: NODE_ID,
      manufacturer: 'ffffff',
      statusChangeAnnouncementPropertyMap: '80,d5',
      setPropertyMap: '',
      getPropertyMap: '80,82,83,8a,9d,9e,9f,d3,d4,d5,d6,d7',
      selfNodeInstances: 1,
      selfNodeClasses: 2,
      selfNodeInstanceListS: '05ff01',
      selfNodeClassListS: '05ff',
    });
  });

  test('answers its controller object, and refuses Sets (nothing of ours is settable)', () => {
    const [reply] = own.node.handle(get(CONTROLLER_EOJ, 0x80, 0x88, 0x8a)).unicast;
    assert.deepEqual(decodeProperties(CONTROLLER_EOJ, allProperties(reply as Frame)).properties, { operationStatus: true, faultStatus: false, manufacturer: 'ffffff' });
    const [refusal] = own.node.handle({ tid: 8, seoj: REQUESTER, deoj: CONTROLLER_EOJ, esv: ESV.SetC, properties: [{ epc: 0x80, edt: Uint8Array.of(0x31) }] }).unicast;
    assert.equal(refusal?.esv, ESV.SetCSna);
  });

  test('objects it does not host get no answer', () => {
    assert.deepEqual(own.node.handle(get(makeEoj(0x01, 0x30, 0x01), 0x80)), { unicast: [], multicast: [] });
  });

  test('announces its instance list from the node profile', () => {
    const inf = own.node.inf(own.nodeProfile, [0xd5]);
    assert.equal(inf?.esv, ESV.Inf);
    assert.deepEqual(decodeProperties(NODE_PROFILE_EOJ, allProperties(inf as Frame)).properties, { instanceListNotification: '05ff01' });
  });

  test('a derived identification number is 17 bytes and stable for one interface', () => {
    const id = derivedIdentificationNumber('ffffff', '192.168.1.10:3610');
    assert.match(id, /^feffffff[0-9a-f]{26}$/);
    assert.equal(derivedIdentificationNumber('ffffff', '192.168.1.10:3610'), id);
    assert.notEqual(derivedIdentificationNumber('ffffff', '192.168.1.11:3610'), id);
  });
});
