import { readFileSync } from 'node:fs';
import type { Logger } from '../../shared/log.js';
import { redactUrl, urlCredentials } from '../../shared/redact.js';
import { BatchDelivery, type DeliveryStatus, type OutboxPort } from './delivery.js';
import { HttpsTransport } from './https-transport.js';
import type { LinkFailure } from './link-failure.js';
import { MqttTransport } from './mqtt-transport.js';
import { RepeatedWarnings } from '../../shared/repeated-warnings.js';
import type { CommandLink, LinkState, TransportOptions, UplinkTransport } from './transport.js';

export type { OutboxPort } from './delivery.js';

export interface UplinkTls {
  /** PEM file of the CA that signed the cloud's certificate. */
  caFile?: string | undefined;
  /** PEM files of this site's client certificate and key, where the cloud wants one. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export interface UplinkOptions {
  /** `mqtt://`, `mqtts://` or `https://` (the cloud API's ingest route). */
  url: string;
  protocolVersion: 4 | 5;
  siteId: string;
  username?: string | undefined;
  /** For tests and containers; a service reads it from `passwordFile` (systemd's LoadCredential=). */
  password?: string | undefined;
  /** File holding the site's password (its secret), read at start; a trailing newline is not part of it. */
  passwordFile?: string | undefined;
  tls?: UplinkTls | undefined;
  batchMaxReadings: number;
  batchMaxBytes: number;
  batchMaxAgeMs: number;
  ackTimeoutMs: number;
  ackTimeoutMaxMs: number;
  /** The largest MQTT packet, or HTTPS response body, the edge takes from the cloud side. */
  maxIncomingBytes: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export interface UplinkStatus extends DeliveryStatus {
  transport: 'mqtt' | 'https';
  state: LinkState;
  /** Why the last attempt to reach the cloud failed; undefined while the link works. */
  failure: LinkFailure | undefined;
  /** The transport's own counts: oversized packets dropped (MQTT), refusals and dead letters (HTTPS). */
  link: Record<string, number>;
}

/** Repeated warnings of one kind make one line, then one summary per this window. */
const WARNING_WINDOW_MS = 60_000;

/**
 * Sends the store's unsent readings to the cloud: the delivery protocol (delivery.ts) over the
 * transport the URL names.
 */
export class Uplink {
  private readonly warnings: RepeatedWarnings;
  private delivery: BatchDelivery | undefined;
  private transport: UplinkTransport | undefined;

  constructor(
    private readonly options: UplinkOptions,
    private readonly outbox: OutboxPort,
    private readonly log: Logger,
    /** Commands from the cloud and their results; MQTT only. */
    private readonly commands?: CommandLink,
  ) {
    this.warnings = new RepeatedWarnings(log, WARNING_WINDOW_MS);
  }

  /** Reads the password and TLS files, then connects; a file that cannot be read fails the start. */
  start(): void {
    const transportOptions = this.transportOptions();
    const delivery = new BatchDelivery(this.options, this.outbox, (batch) => transport.send(batch), this.log, this.warnings);
    const https = this.options.url.startsWith('https://');
    const transport: UplinkTransport = https
      ? new HttpsTransport(transportOptions, delivery, this.log, this.warnings)
      : new MqttTransport(transportOptions, delivery, this.log, this.warnings, () => this.outbox.backlog(), this.commands);
    if (https && this.commands !== undefined) {
      this.log.warn({ siteId: this.options.siteId }, 'commands from the cloud come over MQTT only: with an https:// uplink this site receives none');
    }
    this.delivery = delivery;
    this.transport = transport;
    if (transportOptions.password !== undefined && this.options.url.startsWith('mqtt://')) {
      this.log.warn(
        { siteId: this.options.siteId, url: redactUrl(this.options.url) },
        'the site password goes over plain MQTT: use mqtts:// unless the network to the broker is trusted',
      );
    }
    transport.start();
  }

  /** New readings are in the store: send them if nothing is in flight. */
  notify(): void {
    this.delivery?.notify();
  }

  status(): UplinkStatus {
    const delivery = this.delivery?.status() ?? {
      batchesAcknowledged: 0,
      readingsAcknowledged: 0,
      resends: 0,
      lastAckAt: undefined,
      inFlight: undefined,
      acksRejected: { malformed: 0, otherSite: 0, notInFlight: 0, wrongTopic: 0 },
      ackTimeoutMs: this.options.ackTimeoutMs,
    };
    return {
      ...delivery,
      transport: this.options.url.startsWith('https://') ? 'https' : 'mqtt',
      state: this.transport?.linkState() ?? 'connecting',
      failure: this.transport?.lastFailure(),
      link: this.transport?.counters() ?? {},
    };
  }

  async stop(): Promise<void> {
    this.delivery?.stop();
    await this.transport?.stop();
    this.warnings.flush();
  }

  private transportOptions(): TransportOptions {
    const { url, tls } = this.options;
    const fromUrl = urlCredentials(url);
    const read = (file: string | undefined): Buffer | undefined => (file === undefined ? undefined : readFileSync(file));
    return {
      url,
      siteId: this.options.siteId,
      protocolVersion: this.options.protocolVersion,
      username: this.options.username ?? fromUrl.username,
      password: this.options.password ?? readPasswordFile(this.options.passwordFile) ?? fromUrl.password,
      tls: { ca: read(tls?.caFile), cert: read(tls?.certFile), key: read(tls?.keyFile) },
      maxIncomingBytes: this.options.maxIncomingBytes,
      reconnectMinMs: this.options.reconnectMinMs,
      reconnectMaxMs: this.options.reconnectMaxMs,
    };
  }
}

/** The file's text less one trailing newline (what `echo` and editors add), which no secret includes. */
function readPasswordFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}
