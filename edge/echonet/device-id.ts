/**
 * Device identity. A device is one object (EOJ) of one node; the node is known by its
 * identification number (node profile 0x83), which survives DHCP and address moves. Only nodes
 * without 0x83 fall back to their address, and then a move necessarily looks like a new device.
 */
import { type Eoj, eojToHex } from './eoj.js';

export type NodeKey = { readonly kind: 'id'; readonly id: string } | { readonly kind: 'address'; readonly address: string };

/**
 * Whether a node profile 0x83 (hex) identifies nothing: its 13 unique bytes (after 0xFE and the
 * maker code) all zero or all 0xFF. Emulators and some units ship such placeholders (MoekadenRoom:
 * 0xFE and sixteen zero bytes), so two copies would claim one id and whichever answered first would
 * keep it; treated as absent, ids stay deterministic.
 */
export function isPlaceholderIdentificationNumber(nodeId: string): boolean {
  const unique = nodeId.slice(8);
  return /^(00)+$/.test(unique) || /^(ff)+$/i.test(unique);
}

export function nodeKeyOf(nodeId: string | null, address: string): NodeKey {
  return nodeId === null || isPlaceholderIdentificationNumber(nodeId) ? { kind: 'address', address } : { kind: 'id', id: nodeId };
}

export function sameNode(a: NodeKey, b: NodeKey): boolean {
  return a.kind === 'id' ? b.kind === 'id' && a.id === b.id : b.kind === 'address' && a.address === b.address;
}

export function deviceIdOf(node: NodeKey, eoj: Eoj): string {
  return `${node.kind === 'id' ? node.id : node.address}-${eojToHex(eoj)}`;
}
