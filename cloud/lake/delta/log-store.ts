import type { ObjectMeta, ObjectStore } from '../storage/object-store.js';
import { parseCommit, serializeCommit, type Action } from './actions.js';

export const LOG_DIR = '_delta_log/';
const LAST_CHECKPOINT = `${LOG_DIR}_last_checkpoint`;

const pad = (version: number): string => String(version).padStart(20, '0');
export const commitKey = (version: number): string => `${LOG_DIR}${pad(version)}.json`;
export const checkpointKey = (version: number): string => `${LOG_DIR}${pad(version)}.checkpoint.parquet`;

/** The `_last_checkpoint` hint: where the newest checkpoint is, so opening need not list the whole log. */
export interface LastCheckpoint {
  version: number;
  size: number;
  parts?: number;
  sizeInBytes?: number;
  numOfAddFiles?: number;
}

/** A checkpoint in the listing: one classic file, or every part of a multi-part one. */
export interface CheckpointFiles {
  version: number;
  keys: string[];
  /** False when parts of a multi-part checkpoint are missing: such a checkpoint cannot be used. */
  complete: boolean;
}

export interface LogListing {
  commits: Map<number, ObjectMeta>;
  checkpoints: CheckpointFiles[];
  /** The highest version the listing shows, by commit or checkpoint; -1 when empty. */
  latest: number;
}

const COMMIT = /^(\d{20})\.json$/;
const CLASSIC_CHECKPOINT = /^(\d{20})\.checkpoint\.parquet$/;
const PART_CHECKPOINT = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;

/** Reads and writes the files of `_delta_log/`. Commits are only ever written with put-if-absent. */
export class LogStore {
  constructor(readonly store: ObjectStore) {}

  get location(): string {
    return this.store.location;
  }

  async readCommit(version: number): Promise<Action[] | undefined> {
    const body = await this.store.get(commitKey(version));
    return body === undefined ? undefined : parseCommit(body, this.describe(commitKey(version)));
  }

  /** A key as a person finds it: the store's location and the key. */
  describe(key: string): string {
    return this.location.endsWith('/') ? `${this.location}${key}` : `${this.location}/${key}`;
  }

  /** False when another writer committed this version first. */
  async writeCommit(version: number, actions: Action[]): Promise<boolean> {
    return this.store.putIfAbsent(commitKey(version), serializeCommit(actions));
  }

  /** The hint, or undefined when it is missing or unreadable (it is overwritten in place, so a torn copy is possible). */
  async readLastCheckpoint(): Promise<LastCheckpoint | undefined> {
    const body = await this.store.get(LAST_CHECKPOINT).catch(() => undefined);
    if (body === undefined) return undefined;
    try {
      const value = JSON.parse(body.toString('utf8')) as Partial<LastCheckpoint>;
      return Number.isSafeInteger(value.version) && (value.version as number) >= 0 ? (value as LastCheckpoint) : undefined;
    } catch {
      return undefined;
    }
  }

  async writeLastCheckpoint(hint: LastCheckpoint): Promise<void> {
    await this.store.put(LAST_CHECKPOINT, Buffer.from(JSON.stringify(hint)));
  }

  /** Commits and checkpoints of versions >= `from` (all of them when from is 0). */
  async list(from = 0): Promise<LogListing> {
    const startAfter = from > 0 ? `${LOG_DIR}${pad(from)}` : undefined;
    return listingOf(await this.store.list(LOG_DIR, { startAfter }));
  }

  /** Commits of versions > `after`: what other writers added since a snapshot. */
  async listAfter(after: number): Promise<LogListing> {
    return listingOf(await this.store.list(LOG_DIR, { startAfter: commitKey(after) }));
  }
}

function listingOf(objects: ObjectMeta[]): LogListing {
  const commits = new Map<number, ObjectMeta>();
  const found = new Map<number, { classic?: string; parts: string[]; expected: number }>();
  let latest = -1;
  for (const object of objects) {
    const name = object.key.slice(LOG_DIR.length);
    const commit = COMMIT.exec(name);
    const classic = CLASSIC_CHECKPOINT.exec(name);
    const part = PART_CHECKPOINT.exec(name);
    const version = Number((commit ?? classic ?? part)?.[1] ?? NaN);
    if (Number.isNaN(version)) continue;
    latest = Math.max(latest, version);
    if (commit !== null) {
      commits.set(version, object);
      continue;
    }
    const entry = found.get(version) ?? { parts: [], expected: 0 };
    if (classic !== null) entry.classic = object.key;
    else {
      entry.parts.push(object.key);
      entry.expected = Number(part?.[3]);
    }
    found.set(version, entry);
  }
  // A classic checkpoint is enough on its own; a multi-part one only when every part is there.
  const checkpoints = [...found]
    .map(([version, entry]) =>
      entry.classic !== undefined
        ? { version, keys: [entry.classic], complete: true }
        : { version, keys: entry.parts.sort(), complete: entry.parts.length === entry.expected },
    )
    .sort((a, b) => a.version - b.version);
  return { commits, checkpoints, latest };
}
