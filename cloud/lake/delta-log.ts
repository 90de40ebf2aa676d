import type { ObjectStore } from './object-store.js';

/** Actions of the Delta transaction log (delta-io PROTOCOL.md), the subset this writer produces and replays. */
export interface ProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface MetaDataAction {
  id: string;
  format: { provider: 'parquet'; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number;
}

export interface AddAction {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** JSON text: {"numRecords", "minValues", "maxValues", "nullCount"}. */
  stats?: string;
}

export interface RemoveAction {
  path: string;
  deletionTimestamp?: number;
  dataChange: boolean;
}

export interface TxnAction {
  appId: string;
  version: number;
  lastUpdated?: number;
}

export type Action =
  | { protocol: ProtocolAction }
  | { metaData: MetaDataAction }
  | { add: AddAction }
  | { remove: RemoveAction }
  | { txn: TxnAction }
  | { commitInfo: Record<string, unknown> };

/** The table as of one version: what a writer needs to decide its next commit. */
export interface Snapshot {
  version: number;
  protocol: ProtocolAction;
  metaData: MetaDataAction;
  /** Latest version per application id: the last Kafka offset (or seq) already in the table. */
  txns: Map<string, number>;
  files: Map<string, AddAction>;
}

export class DeltaLogError extends Error {
  override name = 'DeltaLogError';
}

const LOG_DIR = '_delta_log/';
const COMMIT_FILE = /^(\d{20})\.json$/;

export const commitKey = (version: number): string => `${LOG_DIR}${String(version).padStart(20, '0')}.json`;

/** The highest reader and writer versions this writer honours; anything newer may need features it lacks. */
const SUPPORTED = { reader: 1, writer: 2 };

type ReplayState = Partial<Snapshot> & { txns: Map<string, number>; files: Map<string, AddAction> };

export class DeltaLog {
  /** Replayed state so far: each snapshot reads only the commits added since the last one. */
  private replayed: ReplayState = { txns: new Map(), files: new Map() };

  constructor(private readonly store: ObjectStore) {}

  /** The latest snapshot; undefined when the table does not exist yet. */
  async snapshot(): Promise<Snapshot | undefined> {
    const versions = await this.commitVersions();
    if (versions.length === 0) return undefined;
    const state = this.replayed;
    for (const version of versions) {
      if (state.version !== undefined && version <= state.version) continue;
      const body = await this.store.get(commitKey(version));
      if (body === undefined) throw new DeltaLogError(`commit ${version} vanished while the log was read`);
      applyCommit(state, parseCommit(body, version));
      state.version = version;
    }
    const { version, protocol, metaData } = state;
    if (version === undefined || protocol === undefined || metaData === undefined) {
      throw new DeltaLogError(`table at ${this.store.location} has no protocol or metaData action`);
    }
    return { version, protocol, metaData, txns: new Map(state.txns), files: new Map(state.files) };
  }

  /** Writes commit `version`; false when another writer committed that version first. */
  async commit(version: number, actions: Action[]): Promise<boolean> {
    const body = actions.map((action) => JSON.stringify(action)).join('\n') + '\n';
    return this.store.putIfAbsent(commitKey(version), Buffer.from(body));
  }

  private async commitVersions(): Promise<number[]> {
    const names = await this.store.list(LOG_DIR);
    const versions = names
      .map((name) => COMMIT_FILE.exec(name)?.[1])
      .filter((digits): digits is string => digits !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    versions.forEach((version, index) => {
      if (version !== index) {
        throw new DeltaLogError(`log of ${this.store.location} is not contiguous: expected version ${index}, found ${version}`);
      }
    });
    return versions;
  }
}

/** Refuses to write a table that needs more than this writer implements. */
export function assertWritable(protocol: ProtocolAction, location: string): void {
  if (protocol.minReaderVersion > SUPPORTED.reader || protocol.minWriterVersion > SUPPORTED.writer) {
    throw new DeltaLogError(
      `table at ${location} needs reader ${protocol.minReaderVersion} / writer ${protocol.minWriterVersion}; ` +
        `this writer supports up to ${SUPPORTED.reader} / ${SUPPORTED.writer}: point the lake at another root`,
    );
  }
}

function parseCommit(body: Buffer, version: number): Action[] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, index) => {
      try {
        return JSON.parse(line) as Action;
      } catch {
        throw new DeltaLogError(`commit ${version} line ${index + 1} is not JSON`);
      }
    });
}

function applyCommit(state: ReplayState, actions: Action[]): void {
  for (const action of actions) {
    if ('protocol' in action) state.protocol = action.protocol;
    else if ('metaData' in action) state.metaData = action.metaData;
    else if ('add' in action) state.files.set(action.add.path, action.add);
    else if ('remove' in action) state.files.delete(action.remove.path);
    else if ('txn' in action) state.txns.set(action.txn.appId, action.txn.version);
  }
}
