/**
 * The controller's settings: what can be configured, the defaults, and the checks that refuse a
 * value the controller could not work with (with the setting's name and the value).
 */
import { isIPv4 } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { type RetryPolicy, DEFAULT_RETRY_POLICY } from './node-channel.js';
import type { DeviceRegistry } from './registry.js';
import type { CollectWindow } from './transport.js';

export interface EchonetControllerOptions {
  /** Address of the gateway on the devices' network; multicast goes out on this interface only. Required. */
  readonly interfaceAddress: string;
  readonly port?: number;
  readonly multicastGroup?: string;
  /**
   * Nodes to probe by unicast (Get of node profile 0x83, 0x8A, 0xD6) at start and every search
   * interval, for networks multicast does not cross (VLANs, Docker bridges). Default none.
   */
  readonly staticAddresses?: readonly string[];
  /**
   * Multicast search (and static probes) every … (also runs at start). Default 60 s. In the first
   * minute searches come closer, `firstSearchRetryMs` after the first and twice as far each time.
   */
  readonly searchIntervalMs?: number;
  /** The second search this long after the first; each next one twice as far, until `searchIntervalMs`. Default 2 s. */
  readonly firstSearchRetryMs?: number;
  /** How long a search collects answers at most. Default 3 s. */
  readonly searchWindowMs?: number;
  /** A search ends earlier once no new answer came for this long. Default 1 s. */
  readonly searchQuietMs?: number;
  /** Air conditioners. Default 30 s. */
  readonly pollIntervalMs?: number;
  /** Objects of every other class, polled modestly for their raw values. Default 10 × pollIntervalMs. */
  readonly otherClassPollIntervalMs?: number;
  /** Per attempt. Default 2 s. */
  readonly requestTimeoutMs?: number;
  /** Retries after a timeout. Default 2. */
  readonly maxRetries?: number;
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  /** EPCs per Get at most; devices that take fewer are detected. Default 10. */
  readonly maxBatchSize?: number;
  /** From one frame to the next to one node, at least. Default 20 ms. */
  readonly minFrameGapMs?: number;
  /** Consecutive failed poll cycles before a device is no longer online (unreachable or offline). Default 2. */
  readonly unavailableAfterFailures?: number;
  /** A device not online that announced nothing for this many of its poll intervals is offline. Default 10. */
  readonly offlineAfterPollIntervals?: number;
  /** Our node profile's 0x83 (17 bytes hex). Default: 0xFE + maker code + 13 bytes derived from interface and port. */
  readonly identificationNumber?: string;
  /** Our maker code (0x8A, 6 hex digits). Default ffffff (experimental use). */
  readonly manufacturerCode?: string;
  /** Multicast INF 0xD5 (our instance list) at start, as every node should. Default true. */
  readonly announceAtStart?: boolean;
  readonly registry?: DeviceRegistry;
  readonly logger: Logger;
  /** For jitter; tests may pin it. */
  readonly random?: () => number;
}

const OTHER_CLASS_POLL_FACTOR = 10;
const FIRST_SEARCH_RETRY_MS = 2_000;

export interface ResolvedSettings {
  readonly staticAddresses: readonly string[];
  readonly searchIntervalMs: number;
  readonly firstSearchRetryMs: number;
  readonly searchWindow: Required<CollectWindow>;
  readonly pollIntervalMs: number;
  readonly otherClassPollIntervalMs: number;
  readonly maxBatchSize: number;
  readonly minFrameGapMs: number;
  readonly unavailableAfterFailures: number;
  readonly offlineAfterPollIntervals: number;
  readonly announceAtStart: boolean;
  readonly retry: RetryPolicy;
}

export function resolveSettings(options: EchonetControllerOptions): ResolvedSettings {
  const pollIntervalMs = options.pollIntervalMs ?? 30_000;
  const settings: ResolvedSettings = {
    staticAddresses: [...new Set(options.staticAddresses ?? [])],
    searchIntervalMs: options.searchIntervalMs ?? 60_000,
    firstSearchRetryMs: options.firstSearchRetryMs ?? FIRST_SEARCH_RETRY_MS,
    searchWindow: { windowMs: options.searchWindowMs ?? 3_000, quietMs: options.searchQuietMs ?? 1_000 },
    pollIntervalMs,
    otherClassPollIntervalMs: options.otherClassPollIntervalMs ?? OTHER_CLASS_POLL_FACTOR * pollIntervalMs,
    maxBatchSize: options.maxBatchSize ?? 10,
    minFrameGapMs: options.minFrameGapMs ?? 20,
    unavailableAfterFailures: options.unavailableAfterFailures ?? 2,
    offlineAfterPollIntervals: options.offlineAfterPollIntervals ?? 10,
    announceAtStart: options.announceAtStart ?? true,
    retry: {
      timeoutMs: options.requestTimeoutMs ?? DEFAULT_RETRY_POLICY.timeoutMs,
      maxRetries: options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries,
      baseDelayMs: options.retryBaseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
      maxDelayMs: options.retryMaxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
    },
  };
  const positive = {
    searchIntervalMs: settings.searchIntervalMs,
    firstSearchRetryMs: settings.firstSearchRetryMs,
    searchWindowMs: settings.searchWindow.windowMs,
    searchQuietMs: settings.searchWindow.quietMs,
    pollIntervalMs: settings.pollIntervalMs,
    otherClassPollIntervalMs: settings.otherClassPollIntervalMs,
    maxBatchSize: settings.maxBatchSize,
    unavailableAfterFailures: settings.unavailableAfterFailures,
    offlineAfterPollIntervals: settings.offlineAfterPollIntervals,
  };
  for (const [name, value] of Object.entries(positive)) {
    if (!(value > 0)) throw new RangeError(`${name} must be positive, got ${value}`);
  }
  if (!(settings.minFrameGapMs >= 0)) throw new RangeError(`minFrameGapMs must not be negative, got ${settings.minFrameGapMs}`);
  if (settings.maxBatchSize > 255) throw new RangeError('maxBatchSize is at most 255 (OPC is one byte)');
  const badAddress = settings.staticAddresses.find((address) => !isIPv4(address) || address === '0.0.0.0');
  if (badAddress !== undefined) throw new RangeError(`staticAddresses must be IPv4 unicast addresses, got ${badAddress}`);
  return settings;
}

/**
 * Delay after search number `done` (1 = the first, at start) before the next: devices that missed
 * the first search (booting, a lost multicast) are found within seconds, not a search interval later.
 */
export function searchDelay(settings: Pick<ResolvedSettings, 'searchIntervalMs' | 'firstSearchRetryMs'>, done: number): number {
  return Math.min(settings.searchIntervalMs, settings.firstSearchRetryMs * 2 ** Math.max(0, done - 1));
}
