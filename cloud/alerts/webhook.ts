import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import type { Logger } from '../../shared/log.js';
import { redactUrl } from '../../shared/redact.js';
import type { Alert } from './alert.js';
import type { AlertMetrics } from './metrics.js';
import type { Silences } from './silences.js';

export interface WebhookSettings {
  url: string;
  groupId: string;
  topic: string;
  timeoutMs: number;
  backoffMs: number;
  maxBackoffMs: number;
  maxAttempts: number;
  sessionTimeoutMs: number;
  /** The notifier cannot go on (kafkajs gave up): stop and restart. */
  onFatal(err: Error): void;
}

export type Outcome = 'sent' | 'silenced' | 'duplicate' | 'rejected' | 'failed';

/** Deliveries remembered for deduplication; older ones are forgotten first. */
const REMEMBERED = 100_000;

/**
 * Posts every alert record (firing, then resolved) to a webhook, in its own consumer group on the
 * alerts topic: a dead receiver holds up only this consumer, never the engine. Retries with
 * exponential backoff (heartbeating meanwhile); a 4xx other than 408/429 is the receiver refusing
 * the request, so it is not retried. Deduplicated by `(id, state)` here, and the same pair goes in
 * the `Idempotency-Key` header for the receiver: after a crash between a POST and the offset
 * commit, the same notification can come once more.
 */
export class WebhookNotifier {
  private readonly consumer: Consumer;
  private readonly delivered = new Set<string>();
  private readonly stopping = new AbortController();

  constructor(
    kafka: Kafka,
    private readonly settings: WebhookSettings,
    private readonly silences: Silences,
    private readonly metrics: AlertMetrics,
    private readonly log: Logger,
  ) {
    this.consumer = kafka.consumer({ groupId: settings.groupId, readUncommitted: false, sessionTimeout: settings.sessionTimeoutMs });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      if (!event.payload.restart && !this.stopping.signal.aborted) settings.onFatal(event.payload.error);
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.settings.topic, fromBeginning: false });
    // Not awaited: joining the group can wait out a dead member's session, and the role (and the API) need not wait for it.
    this.consumer.run({ eachMessage: (payload) => this.onMessage(payload) }).catch((err: unknown) => this.settings.onFatal(err as Error));
    this.log.info({ url: redactUrl(this.settings.url) }, 'webhook notifier started');
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer.disconnect();
  }

  private async onMessage(payload: EachMessagePayload): Promise<void> {
    const { message } = payload;
    if (message.value === null) return;
    let alert: Alert;
    try {
      alert = JSON.parse(message.value.toString()) as Alert;
    } catch (err) {
      this.log.warn({ offset: message.offset, err }, 'alerts record is not JSON; not notified');
      return;
    }
    const outcome = await this.notify(alert, () => payload.heartbeat());
    this.metrics.notifications.inc({ outcome });
  }

  /** Delivers one alert unless silenced or already delivered; resolves with what happened. */
  async notify(alert: Alert, heartbeat: () => Promise<void>): Promise<Outcome> {
    const key = `${alert.id}:${alert.state}`;
    if (this.delivered.has(key)) return 'duplicate';
    const silence = this.silences.matching(alert, Date.now());
    if (silence !== undefined) {
      this.log.info({ alertId: alert.id, state: alert.state, silenceId: silence.id }, 'alert silenced; not notified');
      return 'silenced';
    }
    let delay = this.settings.backoffMs;
    for (let attempt = 1; attempt <= this.settings.maxAttempts && !this.stopping.signal.aborted; attempt += 1) {
      const status = await this.post(alert, key);
      if (status >= 200 && status < 300) {
        this.remember(key);
        return 'sent';
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        this.log.error({ alertId: alert.id, state: alert.state, status }, 'webhook refused the alert; not retried (fix the receiver)');
        return 'rejected';
      }
      this.log.warn({ alertId: alert.id, state: alert.state, status, attempt, retryInMs: delay }, 'webhook delivery failed; retrying');
      await this.sleep(delay, heartbeat);
      delay = Math.min(delay * 2, this.settings.maxBackoffMs);
    }
    this.log.error({ alertId: alert.id, state: alert.state, attempts: this.settings.maxAttempts }, 'webhook delivery given up');
    return 'failed';
  }

  /** The HTTP status, or 0 when no answer came (refused, reset, timed out). */
  private async post(alert: Alert, key: string): Promise<number> {
    try {
      const response = await fetch(this.settings.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-echolake-alert-id': alert.id, 'x-echolake-alert-state': alert.state },
        body: JSON.stringify(alert),
        signal: AbortSignal.any([AbortSignal.timeout(this.settings.timeoutMs), this.stopping.signal]),
        redirect: 'error',
      });
      await response.body?.cancel();
      return response.status;
    } catch {
      return 0;
    }
  }

  /** Waits, heartbeating the group every few seconds so a long backoff does not cost the membership. */
  private async sleep(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && !this.stopping.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(3000, until - Date.now())));
      await heartbeat().catch(() => undefined);
    }
  }

  private remember(key: string): void {
    this.delivered.add(key);
    if (this.delivered.size > REMEMBERED) this.delivered.delete(this.delivered.values().next().value!);
  }
}
