/** The node table's rules: which node answers where, and when a request's binding lapses. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeKey } from '../../../../edge/echonet/device-id.js';
import { NodeTable } from '../../../../edge/echonet/node-table.js';

const A: NodeKey = { kind: 'id', id: 'fe0000080000000000000000000000000a' };
const B: NodeKey = { kind: 'id', id: 'fe0000080000000000000000000000000b' };
const NO_ID_AT_2: NodeKey = { kind: 'address', address: '10.0.0.2' };

describe('node table', () => {
  test('a request is bound to the node described at the address, and only to it', () => {
    const table = new NodeTable();
    assert.equal(table.bind('10.0.0.2', A), undefined, 'nobody described there yet');
    table.assign('10.0.0.2', A);
    const binding = table.bind('10.0.0.2', A);
    assert.ok(binding && table.isBound(binding));
    assert.equal(table.bind('10.0.0.2', B), undefined, 'another node is not there');
  });

  test('describing the same node again keeps its bindings', () => {
    const table = new NodeTable();
    table.assign('10.0.0.2', A);
    const binding = table.bind('10.0.0.2', A);
    table.assign('10.0.0.2', A);
    assert.ok(binding && table.isBound(binding));
  });

  test("a node's id seen at a new address ends every binding to its old one, which is then in doubt", () => {
    const table = new NodeTable();
    table.assign('10.0.0.2', A);
    const old = table.bind('10.0.0.2', A);
    assert.equal(table.assign('10.0.0.9', A), '10.0.0.2', 'tells which address the node left');
    assert.ok(old && !table.isBound(old));
    assert.equal(table.get('10.0.0.2')?.key, undefined);
    assert.equal(table.addressOfNodeId(A.id), '10.0.0.9');
    assert.ok(table.bind('10.0.0.9', A));
  });

  test('another node described at an address ends the bindings of the one before, also without an id', () => {
    const table = new NodeTable();
    table.assign('10.0.0.2', A);
    const old = table.bind('10.0.0.2', A);
    table.assign('10.0.0.2', NO_ID_AT_2);
    assert.ok(old && !table.isBound(old));
    assert.equal(table.addressOfNodeId(A.id), undefined, 'A is nowhere we know');
    assert.equal(table.bind('10.0.0.2', A), undefined);
  });

  test('a doubt (boot announcement, another id in a search answer) ends bindings until described again', () => {
    const table = new NodeTable();
    table.assign('10.0.0.2', A);
    const before = table.bind('10.0.0.2', A);
    table.doubt('10.0.0.2');
    assert.ok(before && !table.isBound(before));
    assert.equal(table.bind('10.0.0.2', A), undefined);
    table.assign('10.0.0.2', A);
    const after = table.bind('10.0.0.2', A);
    assert.ok(after && table.isBound(after), 'described again: bound again');
    assert.ok(!table.isBound(before), 'an old binding stays lapsed: its requests were planned before the doubt');
  });

  test('a swap of two nodes leaves neither bound to its old address', () => {
    const table = new NodeTable();
    table.assign('10.0.0.2', A);
    table.assign('10.0.0.3', B);
    const a = table.bind('10.0.0.2', A);
    const b = table.bind('10.0.0.3', B);
    table.assign('10.0.0.2', B);
    assert.ok(a && !table.isBound(a) && b && !table.isBound(b));
    assert.equal(table.get('10.0.0.3')?.key, undefined, "B's old address is in doubt until described");
    table.assign('10.0.0.3', A);
    assert.equal(table.addressOfNodeId(A.id), '10.0.0.3');
    assert.equal(table.addressOfNodeId(B.id), '10.0.0.2');
  });

  test('a presumed node (restored, gone silent, no id in a search answer) binds nothing until it confirms its id there', () => {
    const table = new NodeTable();
    table.presume('10.0.0.2', A);
    assert.equal(table.bind('10.0.0.2', A), undefined, 'restored from an earlier run: not bound yet');
    assert.ok(table.isPresumed('10.0.0.2'));
    assert.equal(table.confirm('10.0.0.2', B), false, 'another id does not confirm it');
    assert.equal(table.confirm('10.0.0.2', A), true);
    assert.ok(!table.isPresumed('10.0.0.2'));
    const binding = table.bind('10.0.0.2', A);
    assert.ok(binding && table.isBound(binding));
    table.presume('10.0.0.2', A);
    assert.ok(!table.isBound(binding), 'no answer counts as its while it is only presumed');
    table.confirm('10.0.0.2', A);
    assert.ok(table.isBound(binding), 'the same node confirmed: answers to requests made before are its own again');
  });

  test('a presumed node doubted meanwhile cannot be confirmed: bindings made before stay lapsed', () => {
    const table = new NodeTable();
    table.assign('10.0.0.2', A);
    const binding = table.bind('10.0.0.2', A);
    table.presume('10.0.0.2', A);
    table.doubt('10.0.0.2');
    assert.equal(table.confirm('10.0.0.2', A), false);
    table.assign('10.0.0.2', A);
    assert.ok(binding && !table.isBound(binding), 'a doubt ends bindings for good');
  });

  test('bounded: once full, the least recently heard undescribed address makes room; described ones never do', () => {
    const table = new NodeTable(3);
    table.heardFrom('10.0.0.1');
    table.assign('10.0.0.2', A);
    table.heardFrom('10.0.0.3');
    const evicted: string[] = [];
    assert.ok(table.heardFrom('10.0.0.4', (e) => evicted.push(e.address)));
    assert.deepEqual(evicted, ['10.0.0.1']);
    table.assign('10.0.0.3', B);
    table.assign('10.0.0.4', NO_ID_AT_2);
    assert.equal(table.heardFrom('10.0.0.5'), undefined, 'every entry is a described node: the newcomer is refused');
    assert.equal(table.size, 3);
  });

  test('hearing from an address keeps it from being the next to make room', () => {
    const table = new NodeTable(2);
    table.heardFrom('10.0.0.1');
    table.heardFrom('10.0.0.2');
    table.heardFrom('10.0.0.1');
    const evicted: string[] = [];
    table.heardFrom('10.0.0.3', (e) => evicted.push(e.address));
    assert.deepEqual(evicted, ['10.0.0.2']);
  });
});
