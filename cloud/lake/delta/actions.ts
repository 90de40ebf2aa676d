/** Actions of the Delta transaction log (delta-io PROTOCOL.md): the ones this writer produces or must replay. */

export interface ProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface MetaDataAction {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options?: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

export interface AddAction {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** JSON text: {"numRecords", "minValues", "maxValues", "nullCount"}. */
  stats?: string | null;
  tags?: Record<string, string> | null;
}

export interface RemoveAction {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  tags?: Record<string, string> | null;
}

export interface TxnAction {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

export interface DomainMetadataAction {
  domain: string;
  configuration: string;
  removed: boolean;
}

export type Action =
  | { protocol: ProtocolAction }
  | { metaData: MetaDataAction }
  | { add: AddAction }
  | { remove: RemoveAction }
  | { txn: TxnAction }
  | { domainMetadata: DomainMetadataAction }
  | { commitInfo: Record<string, unknown> };

export class DeltaLogError extends Error {
  override name = 'DeltaLogError';
}

/**
 * One commit file (newline-delimited JSON) as actions. Actions of kinds this writer does not know
 * (cdc, checkpointMetadata, …) are skipped: the protocol check decides whether the table is one it
 * may write at all, and those kinds carry nothing an append needs.
 */
export function parseCommit(body: Buffer, where: string): Action[] {
  const actions: Action[] = [];
  const lines = body.toString('utf8').split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new DeltaLogError(`${where} line ${index + 1} is not JSON: the commit is corrupt`);
    }
    const action = knownAction(value, `${where} line ${index + 1}`);
    if (action !== undefined) actions.push(action);
  }
  return actions;
}

export function serializeCommit(actions: Action[]): Buffer {
  return Buffer.from(actions.map((action) => JSON.stringify(action)).join('\n') + '\n');
}

/** Checks the fields replay relies on, so a malformed action is refused by name instead of corrupting the snapshot. */
export function knownAction(value: unknown, where: string): Action | undefined {
  if (typeof value !== 'object' || value === null) throw new DeltaLogError(`${where} is not a JSON object`);
  const record = value as Record<string, unknown>;
  if (isObject(record.add)) {
    need(record.add, where, 'add', { path: 'string', size: 'number', modificationTime: 'number', dataChange: 'boolean' });
    return { add: { ...(record.add as unknown as AddAction), partitionValues: (record.add.partitionValues ?? {}) as Record<string, string | null> } };
  }
  if (isObject(record.remove)) {
    need(record.remove, where, 'remove', { path: 'string' });
    return { remove: { ...(record.remove as unknown as RemoveAction), dataChange: record.remove.dataChange !== false } };
  }
  if (isObject(record.txn)) {
    need(record.txn, where, 'txn', { appId: 'string', version: 'number' });
    return { txn: record.txn as unknown as TxnAction };
  }
  if (isObject(record.metaData)) {
    // schemaString is checked before a write (a reader of the log alone does not need it).
    need(record.metaData, where, 'metaData', { id: 'string' });
    const metaData = record.metaData as unknown as MetaDataAction;
    return {
      metaData: {
        ...metaData,
        format: metaData.format ?? { provider: 'parquet', options: {} },
        schemaString: metaData.schemaString ?? '',
        partitionColumns: metaData.partitionColumns ?? [],
        configuration: metaData.configuration ?? {},
      },
    };
  }
  if (isObject(record.protocol)) {
    need(record.protocol, where, 'protocol', { minReaderVersion: 'number', minWriterVersion: 'number' });
    return { protocol: record.protocol as unknown as ProtocolAction };
  }
  if (isObject(record.domainMetadata)) {
    need(record.domainMetadata, where, 'domainMetadata', { domain: 'string', configuration: 'string', removed: 'boolean' });
    return { domainMetadata: record.domainMetadata as unknown as DomainMetadataAction };
  }
  if (isObject(record.commitInfo)) return { commitInfo: record.commitInfo };
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function need(action: Record<string, unknown>, where: string, kind: string, fields: Record<string, 'string' | 'number' | 'boolean'>): void {
  for (const [field, type] of Object.entries(fields)) {
    if (typeof action[field] !== type) {
      throw new DeltaLogError(`${where}: the ${kind} action's ${field} is ${JSON.stringify(action[field])}, not a ${type}`);
    }
  }
}
