/**
 * The Delta tables behind the shares, read through the lake's log store and object stores (never the
 * file system directly), and links to their data files: pre-signed URLs for S3, signed URLs of this
 * server's file route for a local folder.
 */
import { DeltaLogError, type ProtocolAction } from '../lake/delta/actions.js';
import { LogStore } from '../lake/delta/log-store.js';
import { assertReadable, UnreadableTableError } from '../lake/delta/protocol.js';
import { Snapshot } from '../lake/delta/snapshot.js';
import type { ObjectStore } from '../lake/storage/object-store.js';
import { openTableStore } from '../lake/storage/open-store.js';
import { S3ObjectStore, type S3Settings } from '../lake/storage/s3-store.js';
import type { SharedTable } from './catalog.js';
import { invalidParameter, notFound, unsupported, type SharingError } from './errors.js';
import type { UrlSigner } from './signed-url.js';

export interface FileLink {
  url: string;
  expirationTimestamp: number;
}

/** One Delta table: its log, and its latest snapshot kept in memory and brought up to date per request. */
export class TableSource {
  readonly log: LogStore;
  private latestSnapshot: Snapshot | undefined;
  private refreshing: Promise<Snapshot> | undefined;

  constructor(
    readonly store: ObjectStore,
    private readonly describe: string,
  ) {
    this.log = new LogStore(store);
  }

  /**
   * The newest version. Concurrent requests share one refresh (a snapshot must not apply the same
   * commit twice at once); callers copy what they need before their next await.
   */
  latest(): Promise<Snapshot> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** The table as of `version`; a version it does not have yet is the client's mistake. */
  async at(version: number): Promise<Snapshot> {
    const latest = await this.latest();
    if (version > latest.version) throw invalidParameter(`${this.describe} is at version ${latest.version}; version ${version} does not exist yet`);
    if (version === latest.version) return latest;
    try {
      const snapshot = await Snapshot.loadAt(this.log, version);
      if (snapshot === undefined) throw invalidParameter(`${this.describe} has no version ${version}`);
      return snapshot;
    } catch (err) {
      if (err instanceof UnreadableTableError) throw this.unsupported(err);
      if (err instanceof DeltaLogError) throw invalidParameter(err.message);
      throw err;
    }
  }

  private async refresh(): Promise<Snapshot> {
    try {
      if (this.latestSnapshot !== undefined) {
        await this.latestSnapshot.update(this.log);
        return this.latestSnapshot;
      }
    } catch {
      // The log moved on in a way the snapshot cannot follow (a cleanup raced it, a protocol upgrade): read it anew.
      this.latestSnapshot = undefined;
    }
    let loaded: Snapshot | undefined;
    try {
      loaded = await Snapshot.load(this.log);
    } catch (err) {
      // A table the lake's reader refuses for a feature is the recipient's answer; a damaged log stays a 500 for the operator.
      if (err instanceof UnreadableTableError) throw this.unsupported(err);
      throw err;
    }
    if (loaded === undefined) throw notFound(`${this.describe} has no Delta log yet: the lake role has not written it`);
    this.latestSnapshot = loaded;
    return loaded;
  }

  /** A protocol met while following the table's changes: refused as the latest snapshot's would be. */
  assertServable(protocol: ProtocolAction): void {
    try {
      assertReadable(protocol, this.store.location);
    } catch (err) {
      if (err instanceof UnreadableTableError) throw this.unsupported(err);
      throw err;
    }
  }

  /** Names what the table needs, not where it lies (the message of the lake's error has its location). */
  private unsupported(err: UnreadableTableError): SharingError {
    return unsupported(`${this.describe} needs ${err.needs}, which this sharing server cannot serve: ask the data provider to share a table without it`);
  }
}

export interface SharedTablesOptions {
  lakeRoot: string;
  s3: S3Settings;
  /** The endpoint pre-signed URLs name, when analysts reach S3 elsewhere than the lake does; '' for lake.s3's. */
  s3PublicEndpoint: string;
  signer: UrlSigner;
  urlExpirySeconds: number;
  /** The protocol prefix, for the file route's URLs. */
  prefix: string;
}

/** Sources of the shared tables (one per table of the lake) and links to their files. */
export class SharedTables {
  private readonly sources = new Map<string, TableSource>();
  /** Stores opened at the public endpoint, only to pre-sign with (SigV4 signs the host: a URL cannot be re-pointed after). */
  private readonly presigners = new Map<string, ObjectStore>();

  constructor(private readonly options: SharedTablesOptions) {}

  source(table: SharedTable): TableSource {
    let source = this.sources.get(table.table);
    if (source === undefined) {
      source = new TableSource(openTableStore(this.options.lakeRoot, table.table, this.options.s3), `table ${table.share}.${table.schema}.${table.name}`);
      this.sources.set(table.table, source);
    }
    return source;
  }

  private presigner(table: SharedTable): ObjectStore {
    const { store } = this.source(table);
    if (!(store instanceof S3ObjectStore) || this.options.s3PublicEndpoint === '') return store;
    let presigner = this.presigners.get(table.table);
    if (presigner === undefined) {
      presigner = openTableStore(this.options.lakeRoot, table.table, { ...this.options.s3, endpoint: this.options.s3PublicEndpoint });
      this.presigners.set(table.table, presigner);
    }
    return presigner;
  }

  /**
   * A URL the client fetches a data file with (the add action's relative, URI-encoded path), good
   * until the returned expiration. `baseUrl` is where this server is reached (for local files).
   */
  async link(table: SharedTable, path: string, size: number, baseUrl: string, now = Date.now()): Promise<FileLink> {
    const key = sharedKeyOf(table, path);
    const expirationTimestamp = now + this.options.urlExpirySeconds * 1000;
    const store = this.presigner(table);
    if (store instanceof S3ObjectStore) return { url: await store.presignGet(key, this.options.urlExpirySeconds), expirationTimestamp };
    const signedPath = `${table.share}/${table.schema}/${table.name}/${key}`;
    const signature = this.options.signer.sign({ path: signedPath, size, expiresAt: expirationTimestamp });
    const encoded = signedPath.split('/').map(encodeURIComponent).join('/');
    return { url: `${baseUrl}${this.options.prefix}/files/${encoded}?expires=${expirationTimestamp}&size=${size}&sig=${signature}`, expirationTimestamp };
  }
}

/** The key of a file a recipient may be sent to; a file elsewhere makes the table one this server cannot share. */
function sharedKeyOf(table: SharedTable, path: string): string {
  try {
    return objectKeyOf(path);
  } catch (err) {
    if (err instanceof DeltaLogError) throw unsupported(`table ${table.share}.${table.schema}.${table.name} has data files outside its folder (absolute paths, a shallow clone), which this sharing server does not serve`);
    throw err;
  }
}

/**
 * The object key of an add action's path: relative and URI-encoded (RFC 2396). Absolute paths
 * (files outside the table's folder) and climbing out of it are refused rather than followed.
 */
export function objectKeyOf(path: string): string {
  let key: string;
  try {
    key = decodeURIComponent(path);
  } catch {
    throw new DeltaLogError(`add action path ${path.slice(0, 200)} is not URI-encoded`);
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(key) || key.startsWith('/') || key.split('/').some((part) => part === '..' || part === '')) {
    throw new DeltaLogError(`add action path ${path.slice(0, 200)} is not a file inside the table's folder; such tables cannot be shared`);
  }
  return key;
}
