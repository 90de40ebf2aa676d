import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../../shared/log.js';
import type { AuditEvent } from '../commands/ledger.js';
import { DeltaTable } from './delta/table.js';
import { txnNames, type TxnNames } from './operations/append.js';
import { appendAuditRecords } from './operations/commands.js';
import type { ObjectStore } from './storage/object-store.js';
import { COMMANDS_TABLE, type AuditRecord } from './tables/commands.js';

export interface CommandsWriterOptions {
  /** The commands role's audit topic. */
  topic: string;
  groupId: string;
  appId: string;
  onFatal: (error: Error) => void;
}

/**
 * The commands audit topic → the Delta table `commands`, exactly once (a txn per partition). The
 * audit is small (a few records per command and unit), so each Kafka batch is one commit.
 */
export class CommandsLakeWriter {
  private readonly consumer: Consumer;
  private readonly names: TxnNames;
  private table: DeltaTable | undefined;

  constructor(
    kafka: Kafka,
    private readonly store: ObjectStore,
    private readonly options: CommandsWriterOptions,
    private readonly log: Logger,
    private readonly engineInfo: string,
  ) {
    this.consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
    this.names = txnNames(options.appId, options.topic);
  }

  async start(): Promise<void> {
    this.table = await DeltaTable.open(this.store, COMMANDS_TABLE, this.log, this.engineInfo);
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      if (!event.payload.restart) this.options.onFatal(event.payload.error);
    });
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) });
    this.log.info({ topic: this.options.topic, table: this.table.location, tableVersion: this.table.snapshot.version }, 'commands audit writer started');
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const table = this.table;
    if (table === undefined || batch.messages.length === 0) return;
    const records: AuditRecord[] = [];
    for (const message of batch.messages) {
      const position = { partition: batch.partition, offset: message.offset };
      const event = auditEventOf(message.value);
      if (event === undefined) this.log.warn(position, 'audit record that is no audit event (not JSON, or an unknown type) left out of the commands table');
      else records.push({ position, event });
    }
    // A failing commit throws: kafkajs backs off and gives the batch again; the txn keeps it once.
    const added = await appendAuditRecords(table, records, this.names);
    const last = batch.messages.at(-1)?.offset ?? '0';
    if (added > 0) this.log.info({ table: 'commands', version: table.snapshot.version, rows: added, partition: batch.partition, lastOffset: last }, 'commands audit committed to delta');
    await this.consumer
      .commitOffsets([{ topic: this.options.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) }])
      .catch((err: unknown) => this.log.warn({ err }, 'kafka offset commit failed; the delta log still has them'));
    await payload.heartbeat();
  }
}

/** The event, or undefined for bytes that are not one (the writer never stops on a record it cannot read). */
function auditEventOf(value: Buffer | null): AuditEvent | undefined {
  try {
    const event = JSON.parse(value?.toString() ?? 'null') as Partial<AuditEvent> | null;
    if (event === null || typeof event.at !== 'string') return undefined;
    if (event.type === 'created' && typeof event.command?.commandId === 'string') return event as AuditEvent;
    if (event.type === 'published' && typeof event.commandId === 'string') return event as AuditEvent;
    if (event.type === 'result' && typeof event.result?.commandId === 'string') return event as AuditEvent;
    return undefined;
  } catch {
    return undefined;
  }
}
