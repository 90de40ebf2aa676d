import { randomUUID } from 'node:crypto';
import type { Logger } from '../../shared/log.js';
import { DeltaLog, DeltaLogError, assertWritable, type Action, type AddAction, type Snapshot } from './delta-log.js';
import type { ObjectStore } from './object-store.js';
import { encodeParquet, schemaString, type Row, type TableSchema } from './table-schema.js';

/** What one append adds: rows, and the txn versions that record what they came from. */
export interface AppendPlan {
  rows: Row[];
  /** appId → version; a commit carries at most one txn per appId. */
  txns: Map<string, number>;
}

export interface AppendResult {
  version: number;
  files: number;
  rows: number;
}

const TABLE_CONFIGURATION = {
  'delta.appendOnly': 'true',
  // Without it, newer writers default to zstd, which the Parquet writer here cannot produce.
  'delta.parquet.compression.codec': 'snappy',
};

const MAX_COMMIT_ATTEMPTS = 20;

/**
 * An append-only Delta table. Appends are planned against the latest snapshot, so the planner
 * can drop what the table already holds (by txn), and are retried from a fresh snapshot when
 * another writer took the version first.
 */
export class DeltaTable {
  private readonly log: DeltaLog;

  constructor(
    private readonly store: ObjectStore,
    private readonly schema: TableSchema,
    private readonly logger: Logger,
    private readonly appName: string,
  ) {
    this.log = new DeltaLog(store);
  }

  /** The current snapshot; creates the table (version 0: protocol and metaData) when missing. */
  async open(): Promise<Snapshot> {
    const existing = await this.log.snapshot();
    if (existing !== undefined) return this.checked(existing);
    const created = await this.log.commit(0, [
      { commitInfo: { timestamp: Date.now(), operation: 'CREATE TABLE', engineInfo: this.appName } },
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      {
        metaData: {
          id: randomUUID(),
          format: { provider: 'parquet', options: {} },
          schemaString: schemaString(this.schema),
          partitionColumns: this.schema.partitionColumns,
          configuration: TABLE_CONFIGURATION,
          createdTime: Date.now(),
        },
      },
    ]);
    if (created) this.logger.info({ table: this.store.location }, 'delta table created');
    const snapshot = await this.log.snapshot();
    if (snapshot === undefined) throw new DeltaLogError(`table at ${this.store.location} vanished after creation`);
    return this.checked(snapshot);
  }

  async append(plan: (snapshot: Snapshot) => AppendPlan): Promise<AppendResult> {
    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt += 1) {
      const snapshot = await this.open();
      const { rows, txns } = plan(snapshot);
      // Everything was in the table already (a re-read after a restart): no version to add.
      if (rows.length === 0 && txns.size === 0) return { version: snapshot.version, files: 0, rows: 0 };
      const adds = await this.writeFiles(rows);
      const version = snapshot.version + 1;
      const actions: Action[] = [
        { commitInfo: { timestamp: Date.now(), operation: 'STREAMING UPDATE', operationParameters: { outputMode: 'Append' }, isBlindAppend: true, engineInfo: this.appName } },
        ...adds.map((add) => ({ add })),
        ...[...txns].map(([appId, txnVersion]) => ({ txn: { appId, version: txnVersion, lastUpdated: Date.now() } })),
      ];
      if (await this.log.commit(version, actions)) {
        return { version, files: adds.length, rows: rows.length };
      }
      this.logger.info({ table: this.store.location, version, attempt }, 'commit version taken by another writer; replanning');
    }
    throw new DeltaLogError(`gave up committing to ${this.store.location} after ${MAX_COMMIT_ATTEMPTS} conflicts`);
  }

  private checked(snapshot: Snapshot): Snapshot {
    assertWritable(snapshot.protocol, this.store.location);
    if (snapshot.metaData.schemaString !== schemaString(this.schema)) {
      throw new DeltaLogError(
        `table at ${this.store.location} has another schema than this version writes; ` +
          'point the lake at a new root or migrate the table',
      );
    }
    return snapshot;
  }

  /** One file per partition value; data files get unique names and are never overwritten. */
  private async writeFiles(rows: Row[]): Promise<AddAction[]> {
    const groups = new Map<string, { values: Record<string, string>; rows: Row[] }>();
    for (const row of rows) {
      const values = Object.fromEntries(this.schema.partitionColumns.map((name) => [name, String(row[name])]));
      const key = JSON.stringify(values);
      const group = groups.get(key) ?? { values, rows: [] };
      group.rows.push(row);
      groups.set(key, group);
    }
    const adds: AddAction[] = [];
    for (const { values, rows: groupRows } of groups.values()) {
      const folder = Object.entries(values).map(([name, value]) => `${name}=${encodeURIComponent(value)}/`).join('');
      const path = `${folder}part-00000-${randomUUID()}-c000.snappy.parquet`;
      const file = await encodeParquet(this.schema, groupRows);
      await this.store.put(path, file.body);
      adds.push({ path, partitionValues: values, size: file.body.length, modificationTime: Date.now(), dataChange: true, stats: file.stats });
    }
    return adds;
  }
}
