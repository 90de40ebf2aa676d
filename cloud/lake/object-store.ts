import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * The few operations a Delta table needs of where it lives. Keys are relative to the table
 * root, with `/` separators. `putIfAbsent` is what makes a Delta commit atomic: it must never
 * overwrite, and must say when the key was taken first.
 */
export interface ObjectStore {
  /** Where the store lives, for logs. */
  readonly location: string;
  put(key: string, body: Buffer): Promise<void>;
  /** Writes only if nothing is at `key`; false when another writer got there first. */
  putIfAbsent(key: string, body: Buffer): Promise<boolean>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Names of the objects directly under `prefix` (a folder key ending in `/`). */
  list(prefix: string): Promise<string[]>;
}

/** A table on a local (or mounted) filesystem. Every write, and every new folder entry, is fsynced before it counts. */
export class LocalObjectStore implements ObjectStore {
  constructor(readonly location: string) {}

  async put(key: string, body: Buffer): Promise<void> {
    const path = this.pathOf(key);
    await makeDirectoryDurably(dirname(path));
    await writeDurably(path, body, 'w');
    await syncDirectory(dirname(path));
  }

  /**
   * Temp file, fsync, then a hard link to the final name: link fails with EEXIST if the name is
   * taken, and readers never see a half-written file (which an exclusive create would expose).
   */
  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    await makeDirectoryDurably(dir);
    const temp = join(dir, `.${randomUUID()}.tmp`);
    await writeDurably(temp, body, 'wx');
    try {
      await link(temp, path);
      await syncDirectory(dir);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    try {
      return await readdir(this.pathOf(prefix));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private pathOf(key: string): string {
    return join(this.location, ...key.split('/'));
  }
}

async function writeDurably(path: string, body: Buffer, flags: 'w' | 'wx'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * mkdir -p, each new folder's entry fsynced into its parent: after a power cut a file whose
 * folder entry was lost is lost too, and a commit would point at it.
 */
async function makeDirectoryDurably(dir: string): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  for (let created = dir; ; created = dirname(created)) {
    await syncDirectory(dirname(created));
    if (created === firstCreated) return;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
