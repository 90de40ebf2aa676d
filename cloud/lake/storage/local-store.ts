import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { ObjectMeta, ObjectStore } from './object-store.js';

/** A store in a local (or mounted) folder. Every write, and every new folder entry, is fsynced before it counts. */
export class LocalObjectStore implements ObjectStore {
  constructor(readonly location: string) {}

  async get(key: string): Promise<Buffer | undefined> {
    return ifExists(() => readFile(this.pathOf(key)));
  }

  async getRange(key: string, start: number, end: number): Promise<Buffer | undefined> {
    return ifExists(async () => {
      const handle = await open(this.pathOf(key), 'r');
      try {
        const size = (await handle.stat()).size;
        const length = Math.max(0, Math.min(end, size) - start);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, start);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    });
  }

  /** Temp file, fsync, then rename: a reader sees the old object or the whole new one. */
  async put(key: string, body: Buffer): Promise<void> {
    const { path, dir, temp } = await this.writeBeside(key, body);
    try {
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await syncDirectory(dir);
  }

  /**
   * Temp file, fsync, then a hard link to the final name: link fails with EEXIST if the name is
   * taken (rename would overwrite), and readers never see a half-written file (which an exclusive
   * create would expose).
   */
  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    const { path, dir, temp } = await this.writeBeside(key, body);
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

  /** The body in a synced temp file in the key's folder, ready to take the key's name. */
  private async writeBeside(key: string, body: Buffer): Promise<{ path: string; dir: string; temp: string }> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    await makeDirectoryDurably(dir);
    const temp = join(dir, `.${randomUUID()}.tmp`);
    await writeDurably(temp, body);
    return { path, dir, temp };
  }

  async delete(key: string): Promise<void> {
    await ifExists(() => unlink(this.pathOf(key)));
  }

  async list(prefix: string, options: { startAfter?: string } = {}): Promise<ObjectMeta[]> {
    const folder = prefix.endsWith('/') || prefix === '' ? prefix : prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const entries = await ifExists(() => readdir(this.pathOf(folder), { recursive: true, withFileTypes: true }));
    if (entries === undefined) return [];
    const keys = entries
      .filter((entry) => entry.isFile())
      .map((entry) => relative(this.location, join(entry.parentPath, entry.name)).split(sep).join('/'))
      .filter((key) => key.startsWith(prefix) && (options.startAfter === undefined || key > options.startAfter))
      .sort();
    const metas = await Promise.all(
      keys.map(async (key) => {
        const info = await ifExists(() => stat(this.pathOf(key)));
        return info === undefined ? undefined : { key, size: info.size, lastModified: info.mtimeMs };
      }),
    );
    // A file deleted between readdir and stat (a concurrent vacuum) is simply not listed.
    return metas.filter((meta): meta is ObjectMeta => meta !== undefined);
  }

  private pathOf(key: string): string {
    return join(this.location, ...key.split('/'));
  }
}

async function ifExists<T>(action: () => Promise<T>): Promise<T | undefined> {
  try {
    return await action();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeDurably(path: string, body: Buffer): Promise<void> {
  const handle = await open(path, 'wx');
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
