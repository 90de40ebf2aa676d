import type { ShareConfig } from './config.js';
import { invalidParameter } from './errors.js';

/** One shared table: its names in the protocol, and the Delta table under the lake root it shows. */
export interface SharedTable {
  share: string;
  schema: string;
  name: string;
  /** The table's folder under `lake.root`. */
  table: string;
}

const key = (...names: string[]): string => names.map((name) => name.toLowerCase()).join('/');

/** Shares → schemas → tables from the configuration; the protocol's names are case-insensitive. */
export class Catalog {
  private readonly shares = new Map<string, ShareConfig>();
  private readonly schemas = new Map<string, { share: string; name: string }>();
  private readonly tables = new Map<string, SharedTable>();

  constructor(shares: readonly ShareConfig[]) {
    for (const share of shares) {
      this.shares.set(key(share.name), share);
      for (const schema of share.schemas) {
        this.schemas.set(key(share.name, schema.name), { share: share.name, name: schema.name });
        for (const table of schema.tables) this.tables.set(key(share.name, schema.name, table.name), { share: share.name, schema: schema.name, name: table.name, table: table.table });
      }
    }
  }

  share(name: string): ShareConfig | undefined {
    return this.shares.get(key(name));
  }

  listShares(): ShareConfig[] {
    return [...this.shares.values()];
  }

  schema(share: string, name: string): { share: string; name: string } | undefined {
    return this.schemas.get(key(share, name));
  }

  table(share: string, schema: string, name: string): SharedTable | undefined {
    return this.tables.get(key(share, schema, name));
  }

  /** The tables of a share, or of one schema of it, in configuration order. */
  tablesOf(share: string, schema?: string): SharedTable[] {
    const prefix = schema === undefined ? `${key(share)}/` : `${key(share, schema)}/`;
    return [...this.tables].filter(([path]) => path.startsWith(prefix)).map(([, table]) => table);
  }
}

/** Names used twice (ignoring case) at one level: the protocol could not tell them apart. */
export function catalogProblems(shares: readonly ShareConfig[]): string[] {
  const problems: string[] = [];
  const repeated = (names: string[]): string[] => names.filter((name, i) => names.findIndex((other) => other.toLowerCase() === name.toLowerCase()) !== i);
  for (const name of repeated(shares.map((share) => share.name))) problems.push(`sharing.shares: share ${name} is listed twice (names ignore case)`);
  for (const share of shares) {
    for (const name of repeated(share.schemas.map((schema) => schema.name))) problems.push(`sharing.shares ${share.name}: schema ${name} is listed twice`);
    for (const schema of share.schemas) {
      for (const name of repeated(schema.tables.map((table) => table.name))) problems.push(`sharing.shares ${share.name}.${schema.name}: table ${name} is listed twice`);
    }
  }
  return problems;
}

export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/**
 * One page of a listing. The token is the offset of the next item (opaque to clients); the page
 * holds at most `maxResults` items and never more than `cap` (the server may return fewer). Every
 * page with a token holds at least one item, so following the tokens always ends.
 */
export function pageOf<T>(all: readonly T[], maxResults: number | undefined, pageToken: string | undefined, cap: number): Page<T> {
  if (maxResults !== undefined && maxResults < 1) throw invalidParameter(`maxResults ${maxResults} asks for empty pages: give 1 or more, or leave it out`);
  const start = pageToken === undefined || pageToken === '' ? 0 : offsetOf(pageToken);
  // The reference server's rule: an offset past the end is no token it gave out for this listing.
  if (start > all.length) throw invalidParameter('pageToken is past the end of this listing: start the listing again without it');
  const size = Math.min(maxResults ?? cap, cap);
  const items = all.slice(start, start + size);
  const next = start + items.length;
  return next < all.length ? { items, nextPageToken: Buffer.from(JSON.stringify({ offset: next })).toString('base64url') } : { items };
}

function offsetOf(token: string): number {
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // Answered below.
  }
  throw invalidParameter('pageToken is not one this server gave out: start the listing again without it');
}
