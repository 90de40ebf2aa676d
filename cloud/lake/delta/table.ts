import { randomUUID } from 'node:crypto';
import type { Logger } from '../../../shared/log.js';
import type { ObjectStore } from '../storage/object-store.js';
import { crashPoint } from '../test-crash.js';
import { evolvedSchema, schemaString, type TableDefinition } from '../tables/schema.js';
import { DeltaLogError, type Action } from './actions.js';
import { LogStore } from './log-store.js';
import { assertWritable } from './protocol.js';
import { Snapshot } from './snapshot.js';

/** What a commit says about itself in commitInfo (the first action, as readers expect). */
export interface CommitInfo {
  operation: string;
  operationParameters?: Record<string, unknown>;
  isBlindAppend?: boolean;
}

/**
 * What a planned commit depended on: if another writer's commit touched any of it, the plan is
 * stale and must be made again; otherwise the commit is simply retried at the next version.
 */
export interface ReadSet {
  /** txn appIds whose versions the plan read (an append's exactly-once decision). */
  txnAppIds?: Iterable<string>;
  /** Files the plan removes (optimize): gone or replaced means a conflict. */
  removedFiles?: Iterable<string>;
}

/** Versions taken by other writers in a row before a commit gives up (each retry re-reads only the new commits). */
const MAX_VERSION_RETRIES = 100;

/**
 * One Delta table this process writes: its log, its latest snapshot (kept up to date in memory, so
 * a commit's log work does not grow with the table's age) and the commit loop. Opening creates
 * the table when missing and adds this writer's new columns to its schema.
 */
export class DeltaTable {
  readonly log: LogStore;

  private constructor(
    readonly store: ObjectStore,
    readonly definition: TableDefinition,
    private current: Snapshot,
    private readonly logger: Logger,
    private readonly engineInfo: string,
  ) {
    this.log = new LogStore(store);
  }

  get snapshot(): Snapshot {
    return this.current;
  }

  get location(): string {
    return this.store.location;
  }

  static async open(store: ObjectStore, definition: TableDefinition, logger: Logger, engineInfo: string): Promise<DeltaTable> {
    const log = new LogStore(store);
    let snapshot = await Snapshot.load(log);
    if (snapshot === undefined) {
      const created = await log.writeCommit(0, creationActions(definition, engineInfo));
      if (created) logger.info({ table: store.location }, 'delta table created');
      snapshot = await Snapshot.load(log);
      if (snapshot === undefined) throw new DeltaLogError(`table at ${store.location} vanished right after it was created`);
    }
    const table = new DeltaTable(store, definition, snapshot, logger, engineInfo);
    await table.prepareForWriting();
    return table;
  }

  /** Re-reads the log from scratch (after a conflict the snapshot cannot follow, e.g. a log cleanup raced it). */
  async reload(): Promise<void> {
    const snapshot = await Snapshot.load(this.log);
    if (snapshot === undefined) throw new DeltaLogError(`table at ${this.location} has no log any more`);
    this.current = snapshot;
    await this.prepareForWriting();
  }

  /** Reads other writers' commits since the snapshot; returns them. */
  async refresh(): Promise<Action[][]> {
    const commits = await this.current.update(this.log);
    if (commits.some((actions) => actions.some((action) => 'metaData' in action || 'protocol' in action))) await this.prepareForWriting();
    return commits;
  }

  /**
   * Commits the actions at the next version. When another writer took it, reads the commits since,
   * and retries at the version after them unless one of them conflicts with the read set; then
   * returns undefined and the caller plans again from the refreshed snapshot.
   */
  async commit(actions: Action[], info: CommitInfo, readSet: ReadSet = {}): Promise<number | undefined> {
    for (let attempt = 1; attempt <= MAX_VERSION_RETRIES; attempt += 1) {
      const version = this.current.version + 1;
      const commitInfo: Action = { commitInfo: { timestamp: Date.now(), ...info, engineInfo: this.engineInfo, txnId: randomUUID() } };
      crashPoint('before-commit');
      if (await this.log.writeCommit(version, [commitInfo, ...actions])) {
        crashPoint('after-commit');
        this.current.apply(version, actions);
        return version;
      }
      const theirs = await this.refresh();
      const conflict = conflictWith(theirs, readSet);
      if (conflict !== undefined) {
        this.logger.info({ table: this.location, version, conflict }, 'another writer changed what this commit was planned on; planning again');
        return undefined;
      }
    }
    throw new DeltaLogError(`gave up committing to ${this.location}: ${MAX_VERSION_RETRIES} versions in a row were taken by other writers`);
  }

  /** Refuses a table this writer cannot append to, and adds the columns it writes that the table lacks. */
  private async prepareForWriting(): Promise<void> {
    const { protocol, metaData } = this.current;
    if (protocol === undefined || metaData === undefined) throw new DeltaLogError(`table at ${this.location} has no protocol or metaData`);
    assertWritable(protocol, metaData, this.location);
    if (JSON.stringify(metaData.partitionColumns) !== JSON.stringify(this.definition.partitionColumns)) {
      throw new DeltaLogError(
        `table at ${this.location} is partitioned by [${metaData.partitionColumns.join(', ')}]; this lake writes it partitioned by [${this.definition.partitionColumns.join(', ')}]: point the lake at another root`,
      );
    }
    const evolved = evolvedSchema(metaData.schemaString, this.definition, this.location);
    if (evolved === undefined) return;
    const version = await this.commit([{ metaData: { ...metaData, schemaString: evolved } }], { operation: 'ADD COLUMNS', operationParameters: { columns: 'new nullable columns of this lake' } });
    this.logger.info({ table: this.location, version }, 'table schema evolved: columns this lake writes were added as nullable');
  }
}

function creationActions(definition: TableDefinition, engineInfo: string): Action[] {
  return [
    { commitInfo: { timestamp: Date.now(), operation: 'CREATE TABLE', engineInfo } },
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    {
      metaData: {
        id: randomUUID(),
        format: { provider: 'parquet', options: {} },
        schemaString: schemaString(definition.columns),
        partitionColumns: definition.partitionColumns,
        configuration: definition.configuration,
        createdTime: Date.now(),
      },
    },
  ];
}

/** Why other writers' commits make a plan stale, or undefined when it can simply be retried. */
function conflictWith(theirs: Action[][], readSet: ReadSet): string | undefined {
  const txnAppIds = new Set(readSet.txnAppIds ?? []);
  const removedFiles = new Set(readSet.removedFiles ?? []);
  for (const actions of theirs) {
    for (const action of actions) {
      if ('metaData' in action) return 'metaData changed';
      if ('protocol' in action) return 'protocol changed';
      if ('txn' in action && txnAppIds.has(action.txn.appId)) return `txn ${action.txn.appId} advanced`;
      if ('remove' in action && removedFiles.has(action.remove.path)) return `file ${action.remove.path} removed`;
    }
  }
  return undefined;
}
