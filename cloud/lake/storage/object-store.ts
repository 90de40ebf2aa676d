/** One object of a listing: its key (relative to the store's root), size in bytes and last-modified time (ms). */
export interface ObjectMeta {
  key: string;
  size: number;
  lastModified: number;
}

/**
 * The operations a Delta table needs of where it lives (a local folder or an S3 prefix). Keys are
 * relative to the store's root with `/` separators. `putIfAbsent` is what makes a Delta commit
 * atomic: it never overwrites and says when another writer took the key first.
 */
export interface ObjectStore {
  /** Where the store lives, for logs and errors (never carries a secret). */
  readonly location: string;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Bytes [start, end) of an object (end clamped to its size), or undefined when there is none. */
  getRange(key: string, start: number, end: number): Promise<Buffer | undefined>;
  /** Writes (or overwrites) an object; readers never see it half-written. */
  put(key: string, body: Buffer): Promise<void>;
  /** Writes only if nothing is at `key`; false when the key was taken. */
  putIfAbsent(key: string, body: Buffer): Promise<boolean>;
  /** Removes an object; removing a missing one is no error. */
  delete(key: string): Promise<void>;
  /**
   * Every object whose key starts with `prefix`, recursively, sorted by key. `startAfter` skips keys
   * that sort at or before it, so a log listing can begin at a checkpoint instead of version 0.
   */
  list(prefix: string, options?: { startAfter?: string }): Promise<ObjectMeta[]>;
}

/** The store could not do what was asked; the message names the store, the key and what to check. */
export class ObjectStoreError extends Error {
  override name = 'ObjectStoreError';
}
