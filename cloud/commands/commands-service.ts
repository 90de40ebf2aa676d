/**
 * Commands in the cloud: a new command goes to the audit topic first (Kafka acks=all), then to
 * each target site over MQTT (QoS 1; the site's persistent session holds it while the site is
 * away); results from the sites go to the audit topic before they are acknowledged to the broker.
 * The ledger is built only from the audit topic, which every instance reads whole.
 */
import type { Kafka, Producer } from 'kafkajs';
import { type IClientOptions, type IPublishPacket, type MqttClient, connect } from 'mqtt';
import { Counter, type Registry } from 'prom-client';
import { encodeCommand, parseCommandResult, type CommandResult } from '../../shared/contract/commands.js';
import { everySiteFilter, parseSiteTopic, sharedFilter, siteTopic } from '../../shared/contract/topics.js';
import type { Logger } from '../../shared/log.js';
import { redactUrl } from '../../shared/redact.js';
import type { MqttConfig } from '../ingest/config.js';
import { type CloudMqttCredentials, cloudMqttClientOptions } from '../ingest/mqtt-client-options.js';
import { TopicFollower } from '../kafka/follower.js';
import type { CommandsConfig } from './config.js';
import type { AuditEvent, CommandLedger, CommandView } from './ledger.js';
import { type CommandRecord, messagesOf } from './request.js';

/** An hour: commands results wait in the broker across a restart of this instance. */
const COMMANDS_SESSION_EXPIRY_S = 3600;

export interface CommandsServiceOptions {
  config: CommandsConfig;
  mqtt: MqttConfig;
  credentials: CloudMqttCredentials;
  kafka: Kafka;
  ledger: CommandLedger;
  metrics: Registry;
  log: Logger;
}

export class CommandsService {
  private readonly producer: Producer;
  private readonly follower: TopicFollower;
  private client: MqttClient | undefined;
  private readonly refusedResults: Counter<'reason'>;

  constructor(private readonly options: CommandsServiceOptions) {
    this.producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.follower = new TopicFollower(options.kafka, { topic: options.config.topic, groupPrefix: options.config.followerGroupPrefix }, (message) => {
      try {
        options.ledger.apply(JSON.parse(message.value?.toString() ?? 'null') as AuditEvent);
      } catch (err) {
        options.log.warn({ err, offset: message.offset }, 'audit record is not JSON; ignored');
      }
    });
    this.refusedResults = new Counter({
      name: 'echolake_command_results_refused_total',
      help: 'command results not taken, by reason (malformed, foreign: for another site than the topic, unknown: for no command this cloud sent there)',
      labelNames: ['reason'],
      registers: [options.metrics],
    });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Reads the whole audit before taking requests, then listens for results. */
  async start(): Promise<void> {
    await this.producer.connect();
    await this.follower.start();
    await this.follower.caughtUp(60_000);
    const { mqtt } = this.options;
    const client = connect(mqtt.url, this.clientOptions());
    this.client = client;
    client.handleMessage = (packet, done) => this.take(packet, done);
    client.on('error', (err) => this.options.log.warn({ err, url: redactUrl(mqtt.url) }, 'commands mqtt error'));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const group = mqtt.sharedGroup === '' ? '' : `${mqtt.sharedGroup}-commands`;
    const filter = sharedFilter(group, everySiteFilter('command-results'));
    const granted = await client.subscribeAsync(filter, { qos: 1 });
    if (granted.some((grant) => grant.qos === 128)) throw new Error(`the broker refused the subscription ${filter}: check the cloud user's ACL`);
    this.options.log.info({ url: redactUrl(mqtt.url), filter }, 'commands subscribed to results');
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
    await this.follower.stop();
    await this.producer.disconnect();
  }

  /** Audits the command, then sends it to every target site; resolves once the broker has each. */
  async create(record: CommandRecord): Promise<CommandView> {
    await this.audit(record.commandId, { type: 'created', at: new Date().toISOString(), command: record });
    const client = this.client;
    if (client === undefined) throw new Error('the commands role has not started');
    await Promise.all(
      messagesOf(record).map(async (message) => {
        await client.publishAsync(siteTopic(message.siteId, 'commands'), encodeCommand(message), { qos: 1 });
        await this.audit(record.commandId, { type: 'published', at: new Date().toISOString(), commandId: record.commandId, siteId: message.siteId });
      }),
    );
    this.options.log.info({ commandId: record.commandId, author: record.author, reason: record.reason, sites: record.targets.length }, 'command sent');
    return this.options.ledger.view(record.commandId) as CommandView;
  }

  view(commandId: string): CommandView | undefined {
    return this.options.ledger.view(commandId);
  }

  private async audit(commandId: string, event: AuditEvent): Promise<void> {
    await this.producer.send({ topic: this.options.config.topic, acks: -1, messages: [{ key: commandId, value: JSON.stringify(event) }] });
    this.options.ledger.apply(event);
  }

  /** A result is acknowledged to the broker only once it is in the audit (or was refused). */
  private take(packet: IPublishPacket, done: (error?: Error) => void): void {
    const topic = parseSiteTopic(packet.topic);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const parsed = parseCommandResult(payload);
    const { log, ledger } = this.options;
    if (topic?.channel !== 'command-results' || !parsed.ok) {
      this.refusedResults.inc({ reason: 'malformed' });
      log.warn({ topic: packet.topic.slice(0, 200), error: parsed.ok ? 'wrong topic' : parsed.error }, 'command result refused');
      done();
      return;
    }
    const result: CommandResult = parsed.value;
    if (result.siteId !== topic.siteId) {
      this.refusedResults.inc({ reason: 'foreign' });
      log.warn({ topicSite: topic.siteId, resultSite: result.siteId, commandId: result.commandId }, 'command result for another site than its topic refused');
      done();
      return;
    }
    if (!ledger.targets(result.commandId, result.siteId)) {
      this.refusedResults.inc({ reason: 'unknown' });
      log.warn({ siteId: result.siteId, commandId: result.commandId }, 'command result for no command sent to that site refused');
      done();
      return;
    }
    if (ledger.knows(result)) {
      done();
      return;
    }
    this.audit(result.commandId, { type: 'result', at: new Date().toISOString(), result })
      .then(() => done())
      .catch((err: unknown) => {
        // Not acknowledged: the broker gives it again on the next session.
        log.error({ err, commandId: result.commandId }, 'command result not audited');
        done(err as Error);
      });
  }

  private clientOptions(): IClientOptions {
    const { mqtt, credentials } = this.options;
    // Its own session beside the ingest's: a slow Kafka write here must not hold readings up.
    const clientId = `${credentials.clientId}-commands`.slice(0, 128);
    return cloudMqttClientOptions(mqtt, credentials, { clientId, expirySeconds: COMMANDS_SESSION_EXPIRY_S });
  }
}
