import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';

/**
 * What checking a secret may cost. A check is scrypt: about 50 ms of a libuv thread and 16 MiB per
 * secret of the site. Unbounded, anyone who can reach the broker or the API could keep every
 * thread busy with wrong secrets (and starve the file and DNS work that shares them).
 */
export interface VerificationLimits {
  /** Checks running at once in the process: below libuv's 4 threads, so file and DNS work keep one. */
  maxConcurrent: number;
  /**
   * Checks waiting their turn, in order, beyond those; more are refused. Without a queue, sites that
   * connect at once (a cloud restart) would get in only as fast as their retries happen to find a
   * free slot; with it a slot never idles while one waits. Bounded: a waiter is held at most about
   * maxWaiting / maxConcurrent checks (64 / 2 × 50 ms ≈ 1.6 s).
   */
  maxWaiting: number;
  /**
   * Checks running or waiting for one source (an IPv4 address, an IPv6 /64): one attacker cannot
   * take every slot and place and lock the good sites out. Loopback is exempt (a local proxy carries
   * many sites).
   */
  maxPerSource: number;
  /** How long a (site, secret) that failed is refused without another check. */
  wrongSecretTtlMs: number;
  /** Failed (site, secret) pairs remembered at most; the least recently offered go first. */
  maxRememberedWrong: number;
}

export const DEFAULT_VERIFICATION_LIMITS: VerificationLimits = {
  maxConcurrent: 2,
  maxWaiting: 64,
  maxPerSource: 2,
  wrongSecretTtlMs: 60_000,
  maxRememberedWrong: 10_000,
};

/** `busy`: not checked, the limit was reached; the client should try again shortly. */
export type Verdict = 'match' | 'wrong' | 'busy';

/** Bounds secret checks (at once, waiting, per source) and remembers the secrets that failed. */
export class VerificationLimit {
  private running = 0;
  /** Who waits for a slot, in order: each is handed the slot of a check that ends. */
  private readonly waiting: Array<() => void> = [];
  /** Checks running or waiting per source; only sources with one, so at most maxConcurrent + maxWaiting keys. */
  private readonly bySource = new Map<string, number>();
  private readonly wrong: LRUCache<string, true>;

  constructor(private readonly limits: VerificationLimits = DEFAULT_VERIFICATION_LIMITS) {
    this.wrong = new LRUCache({ max: limits.maxRememberedWrong, ttl: limits.wrongSecretTtlMs });
  }

  /**
   * Runs `verify` unless the same `key` (site and a hash of the offered secret, never the secret)
   * failed lately, or the limit is reached.
   */
  async check(key: string, source: string | undefined, verify: () => Promise<boolean>): Promise<Verdict> {
    if (this.wrong.get(key) !== undefined) return 'wrong';
    const from = sourceKey(source);
    if (from !== undefined && (this.bySource.get(from) ?? 0) >= this.limits.maxPerSource) return 'busy';
    const slotFree = this.running < this.limits.maxConcurrent;
    if (!slotFree && (this.waiting.length >= this.limits.maxWaiting || this.limits.maxConcurrent === 0)) return 'busy';
    this.enter(from);
    try {
      if (slotFree) this.running += 1;
      else await new Promise<void>((resolve) => this.waiting.push(resolve));
      try {
        // The same wrong secret may have failed while this one waited (a client that retries in a loop).
        if (this.wrong.get(key) !== undefined) return 'wrong';
        const matches = await verify();
        if (!matches) this.wrong.set(key, true);
        return matches ? 'match' : 'wrong';
      } finally {
        this.handOnSlot();
      }
    } finally {
      this.leave(from);
    }
  }

  /** After the registry changed: a secret refused a moment ago may be a site's new one. */
  forget(): void {
    this.wrong.clear();
  }

  /** The next in line gets the slot as it is; with nobody waiting, it is free again. */
  private handOnSlot(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.running -= 1;
    else next();
  }

  private enter(from: string | undefined): void {
    if (from !== undefined) this.bySource.set(from, (this.bySource.get(from) ?? 0) + 1);
  }

  private leave(from: string | undefined): void {
    if (from === undefined) return;
    const left = (this.bySource.get(from) ?? 1) - 1;
    if (left === 0) this.bySource.delete(from);
    else this.bySource.set(from, left);
  }
}

/**
 * Whose share a check counts against: the IPv4 address (also when written IPv4-mapped), the /64
 * of an IPv6 address (one host usually holds a whole /64), or nothing for loopback and an unknown
 * address, which only the overall limit bounds.
 */
export function sourceKey(address: string | undefined): string | undefined {
  if (address === undefined || !ipaddr.isValid(address)) return undefined;
  const ip = ipaddr.process(address);
  if (ip.range() === 'loopback') return undefined;
  if (ip.kind() === 'ipv4') return ip.toString();
  return `${(ip as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16)).join(':')}::/64`;
}
