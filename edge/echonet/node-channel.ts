/**
 * The way to one node: requests to an address go out one at a time (devices drop or truncate
 * answers when several requests overlap) and at least `minGapMs` apart (devices drop requests that
 * follow each other too closely), each with a timeout, and are retried with exponential backoff and
 * jitter. Channels are independent, so a silent node only ever delays itself.
 */
import type { Logger } from '../../shared/log.js';
import { type Eoj, CONTROLLER_EOJ, eojToHex } from './eoj.js';
import { ESV } from './esv.js';
import { type Property, requestedEpcs } from './frame.js';
import { byteHex } from './hex.js';
import { type EchonetTransport, type OutgoingFrame, type ReceivedFrame, EchonetRequestError } from './transport.js';

export interface RetryPolicy {
  readonly timeoutMs: number;
  /** Further attempts after the first one times out. */
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { timeoutMs: 2_000, maxRetries: 2, baseDelayMs: 500, maxDelayMs: 5_000 };

export interface ChannelPacing {
  /** From one frame to the next to this node, at least. */
  readonly minGapMs: number;
  /** No frame before this time (ms since 1970): nodes found together are not all asked at once. */
  readonly notBefore: number;
}

/** All a channel needs of the transport. */
export type RequestTransport = Pick<EchonetTransport, 'request'>;

/** Queued requests beyond this are refused: callers that wait for their previous request never get here. */
const MAX_QUEUED = 32;

/** Equal jitter: half the exponential delay fixed, half random, so retries of many nodes spread out. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}

export class NodeChannel {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private closed = false;
  private nextFrameAt: number;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  constructor(
    readonly address: string,
    private readonly transport: RequestTransport,
    private readonly policy: RetryPolicy,
    private readonly pacing: ChannelPacing,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {
    this.nextFrameAt = pacing.notBefore;
  }

  /**
   * Get of `epcs` from object `deoj`; resolves with Get_Res or Get_SNA. With `stillWanted`, each
   * attempt first asks it and is cancelled if it says no (the address went to another node).
   */
  get(deoj: Eoj, epcs: readonly number[], stillWanted?: () => boolean, onRetry?: () => void): Promise<ReceivedFrame> {
    return this.request({ seoj: CONTROLLER_EOJ, deoj, esv: ESV.Get, properties: requestedEpcs(epcs) }, stillWanted, onRetry);
  }

  /** SetC of encoded properties on `deoj`; resolves with Set_Res or SetC_SNA. `stillWanted` as for `get`. */
  setC(deoj: Eoj, properties: readonly Property[], stillWanted?: () => boolean): Promise<ReceivedFrame> {
    return this.request({ seoj: CONTROLLER_EOJ, deoj, esv: ESV.SetC, properties }, stillWanted);
  }

  /** `onRetry` hears of each attempt after the first (for the asker's counters). */
  request(frame: OutgoingFrame, stillWanted?: () => boolean, onRetry?: () => void): Promise<ReceivedFrame> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.queued >= MAX_QUEUED) {
      return Promise.reject(new EchonetRequestError('SEND_FAILED', `${this.queued} requests already queued for ${this.address}`));
    }
    this.queued += 1;
    const run = this.tail.then(() => this.withRetries(frame, stillWanted, onRetry));
    // The queue continues whether this request succeeded or not.
    this.tail = run.catch(() => undefined).finally(() => (this.queued -= 1));
    return run;
  }

  private async withRetries(frame: OutgoingFrame, stillWanted: (() => boolean) | undefined, onRetry: (() => void) | undefined): Promise<ReceivedFrame> {
    for (let attempt = 0; ; attempt++) {
      await this.waitForTurn();
      if (this.closed) throw this.closedError();
      // Checked at the moment of sending, not of queueing: a request planned for a node that has
      // since left this address must not reach whoever answers there now.
      if (stillWanted !== undefined && !stillWanted()) {
        throw new EchonetRequestError('CANCELLED', `request to ${this.address} cancelled: another node answers there now`);
      }
      try {
        return await this.transport.request(this.address, frame, this.policy.timeoutMs);
      } catch (error) {
        const retryable = error instanceof EchonetRequestError && error.code === 'TIMEOUT';
        if (!retryable || attempt >= this.policy.maxRetries) throw error;
        const delayMs = backoffDelay(this.policy, attempt + 1, this.random);
        this.log.debug(
          { address: this.address, eoj: eojToHex(frame.deoj), epcs: describeEpcs(frame), attempt: attempt + 1, delayMs },
          'echonet request timed out, retrying',
        );
        await this.sleep(delayMs);
        onRetry?.();
      }
    }
  }

  private async waitForTurn(): Promise<void> {
    const waitMs = this.nextFrameAt - Date.now();
    if (waitMs > 0 && !this.closed) await this.sleep(waitMs);
    this.nextFrameAt = Date.now() + this.pacing.minGapMs;
  }

  private closedError(): EchonetRequestError {
    return new EchonetRequestError('CLOSED', `channel to ${this.address} closed`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  /** Refuses new requests and cuts retry waits short; the request in flight ends with the transport. */
  close(): void {
    this.closed = true;
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleepers.clear();
  }
}

function describeEpcs(frame: OutgoingFrame): string {
  const list = 'properties' in frame ? frame.properties : [...frame.setProperties, ...frame.getProperties];
  return list.map((p) => byteHex(p.epc)).join(',');
}
