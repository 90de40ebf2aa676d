import { Agent, request, type RequestOptions } from 'node:https';
import { validateHeaderValue, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Logger } from '../../shared/log.js';
import { redactUrl } from '../../shared/redact.js';
import type { BatchDelivery, OutgoingBatch } from './delivery.js';
import type { RepeatedWarnings } from '../../shared/repeated-warnings.js';
import type { LinkState, TransportOptions, UplinkTransport } from './transport.js';

/** A Retry-After beyond this is a broken header, not a plan: the batch goes again after this at most. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** Shape of the cloud's 422 answer for a batch it kept as a dead letter. */
interface DeadLetterAnswer {
  error?: { code?: unknown; message?: unknown };
  ack?: unknown;
}

/**
 * The uplink over HTTPS, for sites whose firewall passes nothing else: the batch in flight is
 * POSTed to `{url}/v1/sites/{siteId}/readings` with the site's secret as bearer token, and the
 * answer is the cloud's ack, given only once Kafka holds the batch. The protocol is the MQTT one
 * (delivery.ts): one batch in flight, the same batch again until it is acknowledged.
 *
 * - 200: the ack. 422 with an ack (`dead_lettered`): the cloud kept the batch as a dead letter;
 *   the ack counts, and the error is logged, since readings went somewhere nobody reads by default.
 *   422 without an ack: kept, and tried again with backoff.
 * - 401/403: the secret was refused; logged as such, the batch kept, tried again with backoff.
 * - 413: the batch is too large for the cloud; it and every later batch are halved.
 * - 429/503 (after Retry-After when given), other answers and network errors: again with backoff.
 *
 * A request still unanswered when the ack timeout runs out is abandoned for the resend.
 */
export class HttpsTransport implements UplinkTransport {
  private state: LinkState = 'connecting';
  private readonly agent: Agent;
  private readonly endpoint: URL;
  private current: ClientRequest | undefined;
  /** Failed attempts in a row, for the backoff. */
  private failures = 0;
  private readonly counts = { credentialsRefused: 0, tooLarge: 0, deadLettered: 0, throttled: 0, failed: 0 };

  constructor(
    private readonly options: TransportOptions,
    private readonly delivery: BatchDelivery,
    private readonly log: Logger,
    private readonly warnings: RepeatedWarnings,
  ) {
    this.endpoint = readingsEndpoint(options.url, options.siteId);
    if (options.password !== undefined) assertHeaderSafe(options.password);
    // One connection, kept open between batches: one batch is in flight at a time anyway.
    this.agent = new Agent({ keepAlive: true, maxSockets: 1, ...options.tls, rejectUnauthorized: true });
  }

  start(): void {
    this.delivery.linkIsUp();
  }

  send(batch: OutgoingBatch): void {
    // A resend replaces an attempt that had no answer in time.
    this.current?.destroy();
    const body = Buffer.from(batch.payload, 'utf8');
    const headers: RequestOptions['headers'] = {
      'content-type': 'application/json',
      'content-length': body.length,
      accept: 'application/json',
      ...(this.options.password !== undefined && { authorization: `Bearer ${this.options.password}` }),
    };
    let req: ClientRequest;
    try {
      req = request(this.endpoint, { method: 'POST', agent: this.agent, headers });
    } catch (err) {
      this.current = undefined;
      this.counts.failed += 1;
      this.retryLater('https-request', { err }, 'the request to the cloud could not be made; the batch goes again later');
      return;
    }
    this.current = req;
    req.on('response', (res) => this.readAnswer(req, batch, res));
    req.on('error', (err) => {
      if (req !== this.current) return;
      this.current = undefined;
      this.state = 'disconnected';
      this.counts.failed += 1;
      this.retryLater('https-network', { err }, 'cloud not reachable over HTTPS; the batch goes again later');
    });
    req.end(body);
  }

  linkState(): LinkState {
    return this.state;
  }

  counters(): Record<string, number> {
    return { ...this.counts };
  }

  stop(): Promise<void> {
    this.state = 'stopped';
    this.current?.destroy();
    this.current = undefined;
    this.agent.destroy();
    return Promise.resolve();
  }

  /** Reads the answer, at most `maxIncomingBytes` of it, then acts on it. */
  private readAnswer(req: ClientRequest, batch: OutgoingBatch, res: IncomingMessage): void {
    const chunks: Buffer[] = [];
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > this.options.maxIncomingBytes) {
        res.destroy(new Error(`the cloud's answer is over ${this.options.maxIncomingBytes} bytes (uplink.maxIncomingBytes)`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('error', (err) => req.destroy(err));
    res.on('end', () => {
      if (req !== this.current) return;
      this.current = undefined;
      this.state = 'connected';
      this.onAnswer(batch, res.statusCode ?? 0, res.headers['retry-after'], Buffer.concat(chunks).toString('utf8'));
    });
  }

  private onAnswer(batch: OutgoingBatch, status: number, retryAfter: string | undefined, body: string): void {
    const fields = { status, batchId: batch.batchId };
    if (status === 200) {
      this.settle(this.delivery.offerAck(body, fields));
      return;
    }
    if (status === 422) {
      this.onUnprocessable(batch, body);
      return;
    }
    if (status === 401 || status === 403) {
      this.counts.credentialsRefused += 1;
      this.failures += 1;
      this.warnings.error(
        'https-credentials',
        { ...fields, url: redactUrl(this.options.url), username: this.options.username, answer: errorMessage(body) },
        "the cloud refused this site's credentials: check uplink.passwordFile against the site's secret in the cloud (rotated? disabled site?); the batch stays and goes again with backoff",
      );
      this.delivery.retryIn(this.backoffMs());
      return;
    }
    if (status === 413) {
      this.counts.tooLarge += 1;
      this.delivery.tooLarge(this.backoffMs());
      return;
    }
    if (status === 429 || status === 503) {
      this.counts.throttled += 1;
      const asked = retryAfterMs(retryAfter);
      this.retryLater(`https-${status}`, { ...fields, retryAfterMs: asked }, 'the cloud asks to wait (busy, or Kafka down); the batch goes again later', asked);
      return;
    }
    this.counts.failed += 1;
    this.retryLater(`https-${status}`, { ...fields, answer: errorMessage(body) }, 'the cloud did not take the batch; it goes again later');
  }

  /**
   * 422 with an ack: the cloud kept the batch as a dead letter and says not to send it again.
   * 422 without one (a contract newer than the cloud reads): kept and offered again later.
   */
  private onUnprocessable(batch: OutgoingBatch, body: string): void {
    const answer = parseJson(body) as DeadLetterAnswer | undefined;
    if (answer?.ack !== undefined) {
      this.counts.deadLettered += 1;
      this.log.error(
        { siteId: this.options.siteId, batchId: batch.batchId, readings: batch.count, code: String(answer.error?.code), reason: errorMessage(body) },
        'the cloud kept the batch as a dead letter, not as readings; it counts as delivered (see the dead-letter topic)',
      );
      this.settle(this.delivery.offerAck(JSON.stringify(answer.ack), { status: 422, batchId: batch.batchId }));
      return;
    }
    this.counts.failed += 1;
    this.retryLater('https-422', { status: 422, batchId: batch.batchId, answer: errorMessage(body) }, 'the cloud did not take the batch; it goes again later');
  }

  /** An answer that was not the ack of the batch in flight leaves it in flight, to go again after a backoff. */
  private settle(verdict: ReturnType<BatchDelivery['offerAck']>): void {
    if (verdict === 'accepted') {
      this.failures = 0;
      return;
    }
    this.failures += 1;
    this.delivery.retryIn(this.backoffMs());
  }

  private retryLater(kind: string, fields: Record<string, unknown>, msg: string, delayMs?: number): void {
    this.failures += 1;
    const wait = delayMs === undefined ? this.backoffMs() : Math.min(delayMs, MAX_RETRY_AFTER_MS);
    this.warnings.warn(kind, { siteId: this.options.siteId, url: redactUrl(this.options.url), retryInMs: wait, ...fields }, msg);
    this.delivery.retryIn(wait);
  }

  /** Exponential in the failures in a row, with jitter between half and all of the step. */
  private backoffMs(): number {
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    const step = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.max(0, this.failures - 1));
    return Math.round(step / 2 + (Math.random() * step) / 2);
  }
}

/** `{url}/v1/sites/{siteId}/readings`, keeping a path prefix the URL may have; credentials go in the header, never the URL. */
export function readingsEndpoint(url: string, siteId: string): URL {
  const endpoint = new URL(url);
  endpoint.username = '';
  endpoint.password = '';
  endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, '')}/v1/sites/${encodeURIComponent(siteId)}/readings`;
  return endpoint;
}

/** A secret with a line break (a file edited on another system) cannot go into a header: said at start, not per batch. */
function assertHeaderSafe(secret: string): void {
  try {
    validateHeaderValue('authorization', `Bearer ${secret}`);
  } catch {
    throw new Error('the site secret holds a character an HTTP header cannot carry (a line break or control character): check the file uplink.passwordFile names');
  }
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The `error.message` of a `{error:{code,message}}` answer, cut short, for the log. */
function errorMessage(body: string): string {
  const answer = parseJson(body) as DeadLetterAnswer | undefined;
  const message = answer?.error?.message;
  return (typeof message === 'string' ? message : body).slice(0, 200);
}
