import { readCheckpoint } from './checkpoint-file.js';
import {
  DeltaLogError,
  type Action,
  type AddAction,
  type DomainMetadataAction,
  type MetaDataAction,
  type ProtocolAction,
  type RemoveAction,
} from './actions.js';
import { checkpointKey, partKey, type CheckpointFiles, type LogListing, type LogStore } from './log-store.js';
import { assertReadable } from './protocol.js';

/** Commit files fetched at once when replaying the commits after a checkpoint (object stores reward parallel GETs). */
const PARALLEL_READS = 16;

/**
 * The table as of one version: protocol, metaData, live files, tombstones (removes not yet expired),
 * the latest version per txn appId, and domain metadata. Built from the newest usable checkpoint plus
 * the commits after it, so neither the table's age nor a cleaned-up log (Spark's and delta-rs's
 * default after 30 days) matters. A writer keeps one snapshot and applies its own commits to it.
 */
export class Snapshot {
  version = -1;
  protocol: ProtocolAction | undefined;
  metaData: MetaDataAction | undefined;
  readonly files = new Map<string, AddAction>();
  readonly tombstones = new Map<string, RemoveAction>();
  readonly txns = new Map<string, number>();
  readonly domains = new Map<string, DomainMetadataAction>();
  /** Version of the checkpoint this snapshot started from; -1 when it replayed from version 0. */
  checkpointVersion = -1;

  private constructor(readonly location: string) {}

  /** The latest snapshot, or undefined when the table has no log yet. */
  static async load(log: LogStore): Promise<Snapshot | undefined> {
    const hint = await log.readLastCheckpoint();
    if (hint !== undefined) {
      // The usual case: no listing at all (a local folder lists every one of 100,000 log files to find a few).
      const fromHint = await Snapshot.fromHint(log, hint.version, hint.parts);
      if (fromHint !== undefined) return fromHint;
    }
    const listing = await log.list(hint?.version ?? 0);
    return Snapshot.fromListing(log, listing, (hint?.version ?? 0) > 0);
  }

  /**
   * The table as of an older version (time travel, a Delta Sharing query at a version): the newest
   * checkpoint at or before it plus the commits up to it. Undefined when the table has no such
   * version yet; refused when the log was cleaned up past it (no checkpoint and no commits left to
   * rebuild it from).
   */
  static async loadAt(log: LogStore, version: number): Promise<Snapshot | undefined> {
    const listing = await log.list(0);
    if (version > listing.latest) return undefined;
    const upTo: LogListing = {
      commits: new Map([...listing.commits].filter(([v]) => v <= version)),
      checkpoints: listing.checkpoints.filter((c) => c.version <= version),
      latest: version,
    };
    const usable = upTo.checkpoints.some((c) => c.complete) || upTo.commits.has(0);
    if (!usable) {
      throw new DeltaLogError(`version ${version} of ${log.location} can no longer be read: its log was cleaned up and no checkpoint at or before it is left`);
    }
    return Snapshot.fromListing(log, upTo, false);
  }

  /**
   * The snapshot a listing shows: its newest usable checkpoint plus the commits after it. A partial
   * listing (from a hint's version on) is widened to the whole log when it holds no usable checkpoint.
   */
  private static async fromListing(log: LogStore, first: LogListing, startsPartial: boolean): Promise<Snapshot | undefined> {
    let listing = first;
    let partial = startsPartial;
    if (listing.latest < 0 && !partial) return undefined;
    const failed = new Set<number>();
    for (;;) {
      const checkpoint = listing.checkpoints.filter((c) => c.complete && !failed.has(c.version)).at(-1);
      // The hint may be stale (an older checkpoint: fine) or lie (a checkpoint since deleted or torn): then list it all.
      if (checkpoint === undefined && partial) {
        listing = await log.list(0);
        partial = false;
        if (listing.latest < 0) return undefined;
        continue;
      }
      try {
        return await Snapshot.replay(log, listing, checkpoint);
      } catch (err) {
        // A torn or unreadable checkpoint: an older one plus more commits gives the same table.
        if (!(err instanceof CheckpointUnreadable) || checkpoint === undefined) throw err;
        failed.add(checkpoint.version);
      }
    }
  }

  /**
   * The checkpoint the hint names plus the commits after it, found by reading versions in turn until
   * one is missing. Undefined when the named checkpoint is missing or unreadable (a stale or lying hint).
   */
  private static async fromHint(log: LogStore, version: number, parts: number | undefined): Promise<Snapshot | undefined> {
    const keys = parts === undefined || parts <= 1 ? [checkpointKey(version)] : Array.from({ length: parts }, (_, i) => partKey(version, i + 1, parts));
    const snapshot = new Snapshot(log.location);
    try {
      for (const key of keys) {
        const body = await log.store.get(key);
        if (body === undefined) return undefined;
        snapshot.apply(version, await readCheckpoint(body, log.describe(key)));
      }
    } catch {
      return undefined;
    }
    snapshot.checkpointVersion = version;
    await snapshot.applyFollowingCommits(log);
    snapshot.check();
    return snapshot;
  }

  private static async replay(log: LogStore, listing: LogListing, checkpoint: CheckpointFiles | undefined): Promise<Snapshot> {
    const snapshot = new Snapshot(log.location);
    const from = checkpoint === undefined ? 0 : checkpoint.version + 1;
    assertContiguous(listing, from, log.location, checkpoint);
    if (checkpoint !== undefined) {
      for (const key of checkpoint.keys) {
        const body = await log.store.get(key);
        if (body === undefined) throw new CheckpointUnreadable(`${key} vanished`);
        let actions: Action[];
        try {
          actions = await readCheckpoint(body, log.describe(key));
        } catch (err) {
          throw new CheckpointUnreadable((err as Error).message);
        }
        snapshot.apply(checkpoint.version, actions);
      }
      snapshot.checkpointVersion = checkpoint.version;
      snapshot.version = checkpoint.version;
    }
    await snapshot.applyCommits(log, from, listing.latest);
    snapshot.check();
    return snapshot;
  }

  /**
   * Reads the commits other writers added since this snapshot, applies them, and returns them (for a
   * transaction's conflict check). Throws when the log no longer continues from this version.
   */
  async update(log: LogStore): Promise<Action[][]> {
    const commits = await this.applyFollowingCommits(log);
    if (commits.length > 0) this.check();
    return commits;
  }

  /**
   * Reads the versions after this snapshot's in turn (a few at once) and applies them, up to the
   * first missing one. A missing version with a later one present is a gap and refused.
   */
  private async applyFollowingCommits(log: LogStore): Promise<Action[][]> {
    const all: Action[][] = [];
    for (;;) {
      const versions = Array.from({ length: PARALLEL_READS }, (_, i) => this.version + 1 + i);
      const commits = await Promise.all(versions.map((version) => log.readCommit(version)));
      const firstMissing = commits.findIndex((actions) => actions === undefined);
      if (firstMissing !== -1 && commits.slice(firstMissing).some((actions) => actions !== undefined)) {
        throw new DeltaLogError(
          `log of ${log.location} is not contiguous: commit ${versions[firstMissing]} is missing but a later one is there; the table was damaged`,
        );
      }
      for (const [index, actions] of commits.entries()) {
        if (actions === undefined) return all;
        this.apply(versions[index] as number, actions);
        all.push(actions);
      }
    }
  }

  /** Applies one commit's (or checkpoint's) actions; the caller knows the version they make. */
  apply(version: number, actions: Action[]): void {
    for (const action of actions) {
      if ('add' in action) {
        this.files.set(action.add.path, action.add);
        this.tombstones.delete(action.add.path);
      } else if ('remove' in action) {
        this.files.delete(action.remove.path);
        this.tombstones.set(action.remove.path, action.remove);
      } else if ('txn' in action) this.txns.set(action.txn.appId, action.txn.version);
      else if ('protocol' in action) this.protocol = action.protocol;
      else if ('metaData' in action) this.metaData = action.metaData;
      else if ('domainMetadata' in action) {
        if (action.domainMetadata.removed) this.domains.delete(action.domainMetadata.domain);
        else this.domains.set(action.domainMetadata.domain, action.domainMetadata);
      }
    }
    this.version = version;
  }

  private async applyCommits(log: LogStore, from: number, to: number): Promise<Action[][]> {
    const all: Action[][] = [];
    for (let start = from; start <= to; start += PARALLEL_READS) {
      const versions = Array.from({ length: Math.min(PARALLEL_READS, to - start + 1) }, (_, i) => start + i);
      const commits = await Promise.all(versions.map((version) => log.readCommit(version)));
      for (const [index, actions] of commits.entries()) {
        const version = versions[index] as number;
        if (actions === undefined) {
          throw new DeltaLogError(`commit ${version} of ${log.location} vanished while the log was read (a concurrent log cleanup?); open the table again`);
        }
        this.apply(version, actions);
        all.push(actions);
      }
    }
    return all;
  }

  private check(): void {
    if (this.protocol === undefined || this.metaData === undefined) {
      throw new DeltaLogError(`table at ${this.location} has no ${this.protocol === undefined ? 'protocol' : 'metaData'} action as of version ${this.version}: the log is incomplete`);
    }
    assertReadable(this.protocol, this.location);
  }
}

/** Thrown inside load only: the next older checkpoint is tried. */
class CheckpointUnreadable extends Error {}

function assertContiguous(listing: LogListing, from: number, location: string, checkpoint: CheckpointFiles | undefined): void {
  for (let version = from; version <= listing.latest; version += 1) {
    if (listing.commits.has(version)) continue;
    const base = checkpoint === undefined ? 'no checkpoint before it' : `checkpoint at ${checkpoint.version}`;
    throw new DeltaLogError(
      `log of ${location} is not contiguous: commit ${version} is missing (${base}, latest version ${listing.latest}); ` +
        'the table was damaged or its log cleaned up without a checkpoint',
    );
  }
}
