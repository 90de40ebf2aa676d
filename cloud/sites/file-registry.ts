import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Logger } from '../../shared/log.js';
import { registryFileSchema, type RegistryFile, type Site, type SiteRegistry } from './registry.js';

export class RegistryFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(`site registry ${file} is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'RegistryFileError';
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
const validateRegistry = ajv.compile<RegistryFile>(registryFileSchema);

/** Reads and checks a registry file; a file that does not exist yet is an empty registry. */
export function readRegistryFile(file: string): RegistryFile {
  if (!existsSync(file)) return { sites: [] };
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8')) ?? { sites: [] };
  } catch (err) {
    throw new RegistryFileError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  if (!validateRegistry(parsed)) {
    throw new RegistryFileError(file, (validateRegistry.errors ?? []).map((e) => `${e.instancePath || '(top level)'} ${e.message ?? 'is invalid'}`));
  }
  const seen = new Set<string>();
  const repeated = parsed.sites.filter((site) => (seen.has(site.id) ? true : (seen.add(site.id), false)));
  if (repeated.length > 0) throw new RegistryFileError(file, repeated.map((site) => `site ${site.id} is listed more than once`));
  return parsed;
}

/** Writes the whole file at once (temp file, then rename), so the running cloud never reads half of it. */
export function writeRegistryFile(file: string, registry: RegistryFile): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, stringifyYaml(registry), { mode: 0o600 });
  renameSync(temporary, file);
}

/**
 * The registry from a YAML file, reloaded when the file changes. A change that does not validate
 * is logged and counted and the sites stay as they were: a typo must not lock every site out.
 */
export class FileSiteRegistry implements SiteRegistry {
  private byId = new Map<string, Site>();
  private readonly listeners = new Set<() => void>();
  private poller: NodeJS.Timeout | undefined;
  /** The file as it was when last read: a change is any difference from it, however early it came. */
  private loadedFingerprint = '';
  /** Reloads that were refused, for /metrics. */
  rejectedReloads = 0;

  constructor(
    private readonly file: string,
    private readonly checkEveryMs: number,
    private readonly log: Logger,
  ) {}

  /** Loads the file; an invalid file at start is a configuration error the caller reports. */
  start(): void {
    this.loadedFingerprint = this.fingerprint();
    this.replace(readRegistryFile(this.file));
    if (this.byId.size === 0) this.log.warn({ file: this.file }, 'site registry is empty: every site is refused until one is added (echolake-cloud site add)');
    else this.log.info({ file: this.file, sites: this.byId.size }, 'site registry loaded');
    // Polling the file's stat against the one that was read: it sees an editor's replace-by-rename and a
    // mounted secret's update alike, and a change made just after start (fs.watchFile takes its first
    // stat later and would take that change for the starting point).
    this.poller = setInterval(() => this.reloadIfChanged(), this.checkEveryMs);
    this.poller.unref();
  }

  stop(): void {
    clearInterval(this.poller);
    this.poller = undefined;
  }

  get(id: string): Site | undefined {
    return this.byId.get(id);
  }

  list(): readonly Site[] {
    return [...this.byId.values()];
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reload(): void {
    this.loadedFingerprint = this.fingerprint();
    let registry: RegistryFile;
    try {
      if (!existsSync(this.file)) throw new RegistryFileError(this.file, ['the file is gone (a registry is emptied by editing it, not by deleting it)']);
      registry = readRegistryFile(this.file);
    } catch (err) {
      this.rejectedReloads += 1;
      this.log.error({ file: this.file, err }, 'site registry change refused; the sites stay as they were');
      return;
    }
    this.replace(registry);
    this.log.info({ file: this.file, sites: this.byId.size }, 'site registry reloaded');
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.log.error({ err }, 'a site registry listener failed');
      }
    }
  }

  private reloadIfChanged(): void {
    if (this.fingerprint() !== this.loadedFingerprint) this.reload();
  }

  /** Inode, size and modification time: what tells a rewritten file from the one that was read. */
  private fingerprint(): string {
    try {
      const stats = statSync(this.file);
      return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  private replace(registry: RegistryFile): void {
    this.byId = new Map(registry.sites.map((site) => [site.id, site]));
  }
}
