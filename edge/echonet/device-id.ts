/**
 * Device identity. A device is one object (EOJ) of one node; the node is known by its
 * identification number (node profile 0x83), which survives DHCP and address moves. Only nodes
 * without 0x83 fall back to their address, and then a move necessarily looks like a new device.
 */
import { type Eoj, eojToHex } from './eoj.js';

export type NodeKey = { readonly kind: 'id'; readonly id: string } | { readonly kind: 'address'; readonly address: string };

export function nodeKeyOf(nodeId: string | null, address: string): NodeKey {
  return nodeId === null ? { kind: 'address', address } : { kind: 'id', id: nodeId };
}

export function sameNode(a: NodeKey, b: NodeKey): boolean {
  return a.kind === 'id' ? b.kind === 'id' && a.id === b.id : b.kind === 'address' && a.address === b.address;
}

export function deviceIdOf(node: NodeKey, eoj: Eoj): string {
  return `${node.kind === 'id' ? node.id : node.address}-${eojToHex(eoj)}`;
}
