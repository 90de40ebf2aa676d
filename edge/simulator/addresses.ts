/** IPv4 helpers for laying simulated nodes out on consecutive addresses (127.0.0.2, .3, …). */
import { isIPv4 } from 'node:net';

function toNumber(address: string): number {
  if (!isIPv4(address)) throw new RangeError(`not an IPv4 address: ${address}`);
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function fromNumber(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** `count` consecutive addresses from `base`; refuses to run past the end of the address space. */
export function consecutiveAddresses(base: string, count: number): string[] {
  const start = toNumber(base);
  if (start + count - 1 > 0xffffffff) throw new RangeError(`${count} addresses from ${base} overflow IPv4`);
  return Array.from({ length: count }, (_, i) => fromNumber(start + i));
}

/** Simulated nodes must each have their own address; 0.0.0.0 would swallow the controller's unicast. */
export function assertBindableNodeAddress(address: string): void {
  if (!isIPv4(address) || address === '0.0.0.0') throw new RangeError(`a simulated node needs its own IPv4 address, got ${address}`);
}
